"""A network's derivation as a beamer deck: every slide readable (no list of entries shrunk to a
few points to fit), long lists of entries continued over slides at equation boundaries, and a
deck of a sensible length; the single layer's decks are pinned byte for byte by their goldens."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from matgrad_cli.core.network_derive import NetworkDerivation, derive_network
from matgrad_cli.present import network_blocks, network_doc, render
from matgrad_cli.present.beamer import _merged, _parts
from matgrad_cli.present.document import Display, Paragraph

from .test_beamer import _compile

#: The effective size, in points, below which the text of a slide is not readable from a seat:
#: the median height of the words on a slide (its body text at 12 pt measures about 10.6).
READABLE = 7.0
_WORD = re.compile(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)"')


@pytest.fixture(scope="module")
def relu3() -> NetworkDerivation:
    """The network of ``matgrad derive --hidden 3 --activation relu``: widths 2, 3, 2."""
    return derive_network(2, 2, (3,), 2, activation="relu")


def _word_sizes(pdf: Path) -> list[float]:
    """Each page's median word height in points (pdftotext's boxes of the words it shows)."""
    boxes = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    sizes = []
    for page in boxes.split("<page")[1:]:
        heights = sorted(float(low) - float(high) for high, low in _WORD.findall(page))
        if heights:
            sizes.append(heights[len(heights) // 2])
    return sizes


def test_every_slide_of_a_network_deck_is_readable(
    relu3: NetworkDerivation, tmp_path: Path
) -> None:
    deck = _compile(render(relu3, "beamer"), tmp_path)
    sizes = _word_sizes(deck.pdf)
    assert len(sizes) == len(deck.slides)
    assert min(sizes) >= READABLE, sizes
    # One slide per list of a few entries, not one per line: a 2-3-2 deck had 75 pages.
    assert len(deck.slides) <= 50
    assert "(continued)" in "".join(deck.slides)


def test_the_readability_measure_rejects_a_shrunk_list(
    relu3: NetworkDerivation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the limit of lines on a slide, the entries of ∂L/∂W₁ are scaled down to fit one
    slide, and the same measure finds the slide unreadable."""
    monkeypatch.setattr(network_blocks, "SLIDE_LINES", 0)
    monkeypatch.setattr(network_doc, "SLIDE_LINES", 0)
    deck = _compile(render(relu3, "beamer"), tmp_path)
    assert min(_word_sizes(deck.pdf)) < READABLE


def _equation(line: str) -> bool:
    return not line.lstrip().startswith("&")


def test_a_long_display_goes_on_over_slides_between_equations() -> None:
    lines = ("a &= 1", "&\\quad + 2", "&\\quad + 3", "b &= 4", "&\\quad + 5", "c &= 6", "d &= 7")
    parts = _parts(Display(lines, True, 4, True))
    displays = [part for part in parts if isinstance(part, Display)]
    assert [display.lines for display in displays] == [lines[:3], lines[3:]]
    assert all(display.slide_lines == 0 and display.listing for display in displays)
    # Every slide after the first says it continues the list.
    assert parts[1::2] == [Paragraph("(continued)")]
    # An equation longer than a slide is cut inside, never beyond the limit.
    long = tuple(["a &= 1"] + [f"&\\quad + {n}" for n in range(9)])
    cut = [part.lines for part in _parts(Display(long, True, 4)) if isinstance(part, Display)]
    assert [len(group) for group in cut] == [4, 4, 2]
    assert sum(_equation(line) for group in cut for line in group) == 1


def test_a_display_within_its_limit_or_without_one_is_left_as_it_is() -> None:
    lines = tuple(f"x_{n} &= {n}" for n in range(8))
    assert _parts(Display(lines, True)) == [Display(lines, True)]
    assert _parts(Display(lines[:4], True, 4)) == [Display(lines[:4], True, 4)]


def test_a_list_set_as_several_displays_is_one_list_on_at_most_its_slides() -> None:
    entries = [f"x_{n} &= {n}" for n in range(10)]
    article = [
        Display(tuple(entries[:6]), True, 2, True, 2),
        Display(tuple(entries[6:]), True, 2, True, 2),
    ]
    merged = _merged((Paragraph("The list:"), *article, Paragraph("After.")))
    assert merged == [
        Paragraph("The list:"),
        Display(tuple(entries), True, 2, True, 2),
        Paragraph("After."),
    ]
    parts = _parts(merged[1])
    shown = [line for part in parts if isinstance(part, Display) for line in part.lines]
    assert shown == entries[:4]
    notes = [part.text for part in parts if isinstance(part, Paragraph)]
    # The count of the lines left off is the list's own, said on the last slide shown.
    assert notes == [
        "(continued; the list goes on for 6 lines more, left off the slides: the article, "
        "--format latex, prints it whole, and --full keeps it on the slides)"
    ]
    # Without a limit every line is on a slide; a story (not a listing) is never joined.
    unlimited = _parts(Display(tuple(entries), True, 2, True))
    assert sum(len(p.lines) for p in unlimited if isinstance(p, Display)) == len(entries)
    stories = (Display(tuple(entries[:2]), True), Display(tuple(entries[2:4]), True))
    assert _merged(stories) == list(stories)


def test_printed_in_full_a_network_deck_keeps_every_entry(relu3: NetworkDerivation) -> None:
    brief, full = render(relu3, "beamer"), render(relu3, "beamer", full=True)
    assert "left off the slides" not in full
    assert full.count(r"\frac{\partial L}{\partial w^{(1)}_{") >= 6
    assert len(brief) < len(full)
