"""--format beamer: decks that compile with pdflatex and beamer without an error or an overfull
box, one frame per section, a gradient's chain-rule lines revealed one slide at a time and its
boxed identity last (the golden decks of derive are cases of tests/test_golden_cli.py)."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from matgrad_cli.core.derive import derive
from matgrad_cli.present import _DOCUMENTS, _load, formats, render
from matgrad_cli.present.beamer import beamer_text
from matgrad_cli.present.document import Display, Document, Paragraph, Section

from .browser import ink
from .conftest import run_cli, run_pdflatex


def _require_beamer() -> None:
    """Skip without beamer (and pgf), fail in CI (.ci/run installs texlive-latex-recommended
    and texlive-pictures)."""
    kpsewhich = shutil.which("kpsewhich")
    found = kpsewhich is not None and all(
        subprocess.run([kpsewhich, name], capture_output=True, check=False).returncode == 0
        for name in ("beamer.cls", "pgfcore.sty")
    )
    if not found:
        if os.environ.get("CI") == "true":
            pytest.fail("beamer is required in CI (.ci/run installs texlive-latex-recommended)")
        pytest.skip("beamer is not installed")


@dataclass(frozen=True)
class Deck:
    """A compiled deck: the text of each slide (pdftotext; covered text is not there) and the
    pages of each frame (beamer's .nav file)."""

    pdf: Path
    slides: list[str]
    frames: list[tuple[int, int]]


def _problems(log: str) -> list[str]:
    """The errors and the overfull or underfull boxes a pdflatex log reports."""
    return [
        line
        for line in log.splitlines()
        if line.startswith("!") or re.match(r"(Over|Under)full", line)
    ]


def _compile(latex: str, folder: Path, name: str = "deck") -> Deck:
    _require_beamer()
    result = run_pdflatex(latex, folder, name)
    log = (folder / f"{name}.log").read_text(encoding="utf-8", errors="replace")
    assert result.returncode == 0, log[-3000:]
    assert _problems(log) == []
    text = subprocess.run(
        ["pdftotext", "-layout", str(folder / f"{name}.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    nav = (folder / f"{name}.nav").read_text(encoding="utf-8")
    frames = [
        (int(first), int(last))
        for first, last in re.findall(r"\\beamer@framepages \{(\d+)\}\{(\d+)\}", nav)
    ]
    return Deck(folder / f"{name}.pdf", text.split("\f")[:-1], frames)


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_derivation_deck_reveals_each_chain_rule_line(tmp_path: Path) -> None:
    derivation = derive(2, 2, 2)
    document = _load(_DOCUMENTS["Derivation"])(derivation, full=False)
    deck = _compile(render(derivation, "beamer"), tmp_path)
    assert len(deck.frames) == 1 + len(document.sections)
    assert deck.frames[-1][1] == len(deck.slides)
    (index,) = [
        i
        for i, section in enumerate(document.sections)
        if section.title.startswith("The gradient with respect to Z")
    ]
    lines = [
        len(block.lines)
        for block in document.sections[index].blocks
        if isinstance(block, Display) and "appears in" not in str(block) and block.aligned
    ]
    first, last = deck.frames[index + 1]
    frame = [_squeezed(slide) for slide in deck.slides[first - 1 : last]]
    # each entry's chain rule on consecutive slides, one more line on each, one entry at a time
    shown: dict[str, list[int]] = {}
    for number, slide in enumerate(frame):
        entries = re.findall(r"z(\d,\d)appearsin", slide)
        assert len(entries) <= 1
        if entries:
            shown.setdefault(entries[0], []).append(number)
    assert sorted(shown) == ["1,1", "1,2", "2,1", "2,2"]
    for numbers in shown.values():
        assert len(numbers) == lines[0] == 2
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
        texts = [frame[number] for number in numbers]
        assert all(len(a) < len(b) for a, b in itertools.pairwise(texts))
    # the boxed identity comes last, on the frame's last slide only
    verified = [number for number, slide in enumerate(frame) if "Verifiedentrybyentry" in slide]
    assert verified == [len(frame) - 1]
    assert deck.slides[last - 1].count("∂L") >= 2


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("derive-3x2x4-softmax", ["derive", "-m", "3", "-k", "2", "-n", "4", "--loss",
                                  "softmax-cross-entropy"]),
        ("derive-12x12x12", ["derive", "-m", "12", "-k", "12", "-n", "12"]),
        ("derive-brief", ["derive", "-m", "3", "-k", "2", "-n", "4", "--brief"]),
        ("check", ["check", "dZ = G @ W.T", "dW = G @ Z.T"]),
        ("prove", ["prove"]),
        ("jacobian", ["jacobian", "-m", "3", "-k", "2", "-n", "4"]),
        ("numeric", ["derive", "-m", "4", "-k", "3", "-n", "5", "--numeric"]),
    ],
)  # fmt: skip
def test_every_deck_compiles_without_overfull_boxes(
    name: str, args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli([*args, "-f", "beamer"], capsys)
    assert code in (0, 1), err
    deck = _compile(out, tmp_path, name)
    assert len(deck.frames) == out.count("\\begin{frame}")
    assert len(deck.slides) >= len(deck.frames)


def test_a_slide_is_drawn(tmp_path: Path) -> None:
    deck = _compile(render(derive(2, 2, 2), "beamer"), tmp_path)
    _, last = deck.frames[3]
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", str(last), "-l", str(last), str(deck.pdf),
         str(tmp_path / "slide")],
        check=True,
        timeout=60,
    )  # fmt: skip
    (picture,) = tmp_path.glob("slide*.png")
    share, rows = ink(picture)
    assert share > 0.005
    assert rows > 40


def test_the_compile_check_catches_an_overfull_slide(tmp_path: Path) -> None:
    """The check above can fail: a line that cannot be broken runs off the slide."""
    document = Document("Too wide", (Section("A line", (Paragraph("`" + "x" * 300 + "`"),)),))
    _require_beamer()
    result = run_pdflatex(beamer_text(document), tmp_path, "wide")
    assert result.returncode == 0
    log = (tmp_path / "wide.log").read_text(encoding="utf-8", errors="replace")
    assert any(line.startswith("Overfull \\hbox") for line in _problems(log))


def test_every_kind_offers_beamer_and_derive_lists_it(capsys: pytest.CaptureFixture[str]) -> None:
    for kind in _DOCUMENTS:
        assert "beamer" in formats(kind)
    code, out, _ = run_cli(["derive", "--help"], capsys)
    assert code == 0
    assert "beamer" in out


@pytest.mark.parametrize(
    "args",
    [
        ["derive", "-f", "beamer", "--standalone"],
        ["exercise", "--seed", "1", "-o", "x", "-f", "beamer"],
    ],
)
def test_a_bad_combination_is_one_line_and_exit_2(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(args, capsys)
    assert (code, out) == (2, "")
    assert err.startswith("matgrad: error: ")
    assert err.count("\n") == 1


def test_a_deck_on_a_terminal_is_highlighted_as_latex_and_never_wrapped() -> None:
    import io

    from rich.console import Console

    from matgrad_cli.cli.deliver import print_highlighted

    text = render(derive(2, 2, 2), "beamer")
    screen = io.StringIO()
    console = Console(file=screen, width=30, force_terminal=True, color_system="standard")
    print_highlighted(text, "beamer", console)
    shown = screen.getvalue()
    assert re.sub(r"\x1b\[[0-9;]*m", "", shown) == text
    assert re.search(r"\x1b\[[0-9;]*m\\documentclass", shown)


def test_a_line_is_split_at_its_own_ampersands_only() -> None:
    from matgrad_cli.present.beamer import _cells

    line = r"P &= \begin{bmatrix} x & y \\ z & w \end{bmatrix} + \{ a \& b \} & \text{(1)}"
    assert _cells(line) == [
        "P ",
        r"= \begin{bmatrix} x & y \\ z & w \end{bmatrix} + \{ a \& b \} ",
        r" \text{(1)}",
    ]
    assert _cells(r"\frac{a &}{b} &= c") == [r"\frac{a &}{b} ", "= c"]


def _overlay_arguments(deck: str) -> list[str]:
    """The argument of every \\uncover in ``deck``, read to its matching brace."""
    arguments = []
    for match in re.finditer(r"\\uncover<\d+->\{", deck):
        depth, position = 1, match.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(deck[position], 0)
            position += 2 if deck[position] == "\\" else 1  # an escape: \\{ is no brace
        arguments.append(deck[match.end() : position - 1])
    return arguments


def test_every_overlay_holds_whole_matrices(monkeypatch: pytest.MonkeyPatch) -> None:
    from matgrad_cli.present import beamer

    def whole(deck: str) -> bool:
        return all(
            argument.count(r"\begin{bmatrix}") == argument.count(r"\end{bmatrix}")
            for argument in _overlay_arguments(deck)
        )

    derivation = derive(2, 2, 2)
    deck = render(derivation, "beamer")
    assert len(_overlay_arguments(deck)) > 20
    assert whole(deck)
    # split at every & instead, the lines of the matrix product would part its matrices
    monkeypatch.setattr(beamer, "_cells", lambda line: line.split("&"))
    assert not whole(render(derivation, "beamer"))
