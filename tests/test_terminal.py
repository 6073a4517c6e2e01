"""Tests for the pieces the terminal views are built from (present/terminal.py, notation.py).

Each renderable is printed into a fixed-width ``Console(file=io.StringIO(), width=…)`` and the
text compared, as rich's own tests do.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from fractions import Fraction

import pytest
from rich.cells import cell_len
from rich.console import Console, RenderableType

from matgrad_cli.core.checks import Check
from matgrad_cli.present.limits import ENTRY_LIST, MATRIX_SIDE, SUM_TERMS
from matgrad_cli.present.notation import (
    all_entries,
    dimensions,
    elide,
    pretty_index,
    product_entry,
    subscript,
    visible,
)
from matgrad_cli.present.terminal import (
    Block,
    BlockRows,
    Equation,
    Figure,
    Hanging,
    Listing,
    Section,
    Sections,
    beside,
    fails,
    labelled,
    line,
    marked,
    matrix_block,
    matrix_cells,
    render_to_text,
    results_table,
    rows_of_blocks,
    summary_result,
    text_block,
    verified,
)


def rendered(renderable: RenderableType, width: int = 40) -> str:
    """What a plain console of ``width`` columns prints for ``renderable``."""
    buffer = io.StringIO()
    console = Console(
        file=buffer, width=width, color_system=None, highlight=False, markup=False, emoji=False
    )
    console.print(renderable)
    return "".join(text.rstrip() + "\n" for text in buffer.getvalue().splitlines())


def two_by_two() -> Block:
    return matrix_block([["z₁,₁", "z₁,₂"], ["z₂,₁", "z₂,₂"]])


# Blocks -----------------------------------------------------------------------------------------


def test_blocks_side_by_side_share_their_baseline() -> None:
    three_rows = matrix_block([["1"], ["2"], ["3"]])
    joined = beside(text_block("Z = "), three_rows, text_block("ᵀ"))
    assert joined.lines == ("    ⎡1⎤", "Z = ⎢2⎥ᵀ", "    ⎣3⎦")
    assert joined.baseline == 1
    assert joined.width == 8


def test_a_gap_separates_blocks_and_lines_end_without_spaces() -> None:
    joined = beside(labelled("Z = ", two_by_two()), text_block("x"), gap=3)
    assert joined.lines == ("Z = ⎡z₁,₁  z₁,₂⎤   x", "    ⎣z₂,₁  z₂,₂⎦")


def test_blocks_start_a_new_row_when_the_next_would_not_fit() -> None:
    blocks = [labelled(f"{name} = ", two_by_two()) for name in "ZWB"]
    rows = rows_of_blocks(blocks, width=40)
    assert [len(row.lines[0]) for row in rows] == [36, 16]
    assert "B = " in rows[1].lines[0]


def test_rows_of_blocks_are_printed_a_line_apart() -> None:
    blocks = [labelled(f"{name} = ", two_by_two()) for name in "ZWB"]
    assert rendered(BlockRows(blocks), width=40) == (
        "Z = ⎡z₁,₁  z₁,₂⎤    W = ⎡z₁,₁  z₁,₂⎤\n"
        "    ⎣z₂,₁  z₂,₂⎦        ⎣z₂,₁  z₂,₂⎦\n"
        "\n"
        "B = ⎡z₁,₁  z₁,₂⎤\n"
        "    ⎣z₂,₁  z₂,₂⎦\n"
    )


# Matrices ---------------------------------------------------------------------------------------


def test_one_row_is_in_square_brackets_and_more_in_tall_ones() -> None:
    assert matrix_block([["b₁", "b₂"]]).lines == ("[b₁  b₂]",)
    assert matrix_block([["1"], ["2"], ["3"], ["4"]]).lines == ("⎡1⎤", "⎢2⎥", "⎢3⎥", "⎣4⎦")


def test_cells_with_spaces_are_three_spaces_apart() -> None:
    assert matrix_block([["g₁,₁ w₁,₁", "0"]]).lines == ("[g₁,₁ w₁,₁   0]",)


def test_numbers_align_right_and_expressions_left() -> None:
    cells = [["1", "−20"], ["300", "4"]]
    assert matrix_block(cells, align="right").lines == ("⎡  1  −20⎤", "⎣300    4⎦")
    assert matrix_block(cells).lines == ("⎡1    −20⎤", "⎣300  4  ⎦")


def test_large_matrices_are_elided_beyond_the_display_limit() -> None:
    side = MATRIX_SIDE + 1
    assert visible(MATRIX_SIDE) == list(range(MATRIX_SIDE))
    assert visible(side) == [0, 1, 2, None, side - 2, side - 1]
    assert visible(side, full=True) == list(range(side))
    cells = matrix_cells(side, side, lambda i, j: f"{i + 1}{j + 1}", full=False)
    assert cells[0] == ["11", "12", "13", "⋯", f"1{side - 1}", f"1{side}"]
    assert cells[3] == ["⋮", "⋮", "⋮", "⋱", "⋮", "⋮"]
    # The marks are centred in their column.
    assert matrix_block(cells).lines[3] == "⎢⋮   ⋮   ⋮   ⋱  ⋮   ⋮ ⎥"


# Lines ------------------------------------------------------------------------------------------


def test_an_equation_breaks_before_a_plus_under_the_equals_sign() -> None:
    terms = ["g₁,₁ w₁,₁", "g₁,₂ w₁,₂", "g₁,₃ w₁,₃", "g₁,₄ w₁,₄"]
    text = rendered(Equation("  ", "∂L/∂z₁,₁", terms), width=40)
    assert text == ("  ∂L/∂z₁,₁ = g₁,₁ w₁,₁ + g₁,₂ w₁,₂\n           + g₁,₃ w₁,₃ + g₁,₄ w₁,₄\n")
    assert max(cell_len(text_line) for text_line in text.splitlines()) <= 40


def test_equations_line_up_their_equals_signs_and_an_empty_sum_is_zero() -> None:
    text = rendered(Equation("", "a₁", [], lhs_width=5), width=40)
    assert text == "a₁    = 0\n"
    chain = Equation("", "x", ["a", "b", "c"], join="=")
    assert chain.lines(9) == ["x = a = b", "  = c"]


def test_a_long_listing_shows_the_first_three_a_count_and_the_last() -> None:
    count = ENTRY_LIST + 2

    def show(number: int) -> list[RenderableType]:
        return [line(f"item {number}")]

    text = rendered(Listing(count, show, lambda more: f"{more} more", full=False))
    assert text.splitlines() == [
        "item 0",
        "item 1",
        "item 2",
        f"    ⋮   {count - 4} more",
        f"item {count - 1}",
    ]
    full = rendered(Listing(count, show, lambda more: f"{more} more", full=True))
    assert full.splitlines() == [f"item {number}" for number in range(count)]
    short = rendered(Listing(ENTRY_LIST, show, lambda more: "never", full=False))
    assert "never" not in short


def test_a_figure_too_wide_for_the_console_says_so_instead_of_folding() -> None:
    assert rendered(Figure(two_by_two(), indent=2), width=40) == (
        "  ⎡z₁,₁  z₁,₂⎤\n  ⎣z₂,₁  z₂,₂⎦\n"
    )
    note = rendered(Figure(two_by_two(), indent=2), width=12)
    assert "⎡" not in note
    assert "12 columns wide" in " ".join(note.split())


def test_a_hanging_paragraph_indents_under_its_body_and_keeps_relations_whole() -> None:
    text = rendered(Hanging("for every 1 ≤ r ≤ k and every m × k matrix", " (1) "), width=22)
    assert text == " (1) for every\n     1 ≤ r ≤ k and\n     every m × k\n     matrix\n"


# Sections and verdicts --------------------------------------------------------------------------


def test_sections_are_numbered_under_rules_a_line_apart() -> None:
    sections = [Section("Setup", [line("one")]), Section("Summary", [line("two")])]
    rule = "─" * 20
    assert rendered(Sections(sections), width=20) == (
        f"1. Setup {rule[9:]}\none\n\n2. Summary {rule[11:]}\ntwo\n"
    )
    with_lead = rendered(Sections(sections[:1], lead=line("Title")), width=20)
    assert with_lead == f"Title\n\n1. Setup {rule[9:]}\none\n"


@pytest.mark.parametrize(
    ("count", "words"), [(1, "its one entry"), (2, "both entries"), (6, "all 6 entries")]
)
def test_verdict_lines_say_how_many_entries_were_checked(count: int, words: str) -> None:
    assert all_entries(count) == words
    assert verified(count, "∂L/∂Z = G Wᵀ").plain == f"✓ Verified at {words}: ∂L/∂Z = G Wᵀ."
    assert fails("it does not hold.").plain == "✗ FAILS: it does not hold."
    assert marked(True, "fine").plain == "✓ fine"
    assert marked(False, "not fine").plain == "✗ not fine"


def test_the_summary_result_says_how_a_check_failed() -> None:
    holds = Check("Z", "G Wᵀ", False, (2, 3), (2, 3), True, 6)
    assert summary_result(holds, None) == "✓ holds, 6/6 entries"
    wrong_shape = Check("Z", "G W", False, (2, 3), (2, 2), False, 0)
    assert summary_result(wrong_shape, "0") == "✗ fails: shape 2×2, not 2×3"
    differs = Check("Z", "G W", False, (2, 2), (2, 2), False, 4, mismatch_count=3)
    assert summary_result(differs, "3") == "✗ fails at 3/4 entries"
    assert summary_result(differs, None) == "✗ fails"


def test_a_results_table_has_a_ruled_head_and_keeps_short_columns_whole() -> None:
    table = results_table(
        ("identity", "shape", "result"), [("∂L/∂Z = G Wᵀ", "2×3", "✓ holds")], no_wrap=("shape",)
    )
    lines = rendered(table, width=40).splitlines()
    assert lines[0].split() == ["identity", "shape", "result"]
    assert set(lines[1]) <= {"─", " "}
    assert lines[2].split() == ["∂L/∂Z", "=", "G", "Wᵀ", "2×3", "✓", "holds"]


def test_text_is_plain_unless_colour_is_asked_for() -> None:
    view = Sections([Section("Setup", [marked(True, "fine")])])
    plain = render_to_text(view, width=30)
    assert "\x1b[" not in plain
    assert all(not text.endswith(" ") for text in plain.splitlines())
    assert "\x1b[" in render_to_text(view, width=30, color=True)


# Notation ---------------------------------------------------------------------------------------


def test_indices_are_subscripts_with_a_comma_and_shapes_use_a_times_sign() -> None:
    assert subscript(12) == "₁₂"
    assert pretty_index((1, 11)) == "₁,₁₁"
    assert dimensions((3, 4)) == "3×4"


def test_long_sums_and_lists_are_elided_to_their_first_two_and_last() -> None:
    terms = [f"t{number}" for number in range(SUM_TERMS + 1)]
    assert elide(terms, full=False) == ["t0", "t1", "⋯", f"t{SUM_TERMS}"]
    assert elide(terms, full=True) == terms
    assert ", ".join(elide(terms[:3], full=False)) == "t0, t1, t2"


def test_linear_forms_read_in_the_order_of_their_product() -> None:
    import sympy

    w, z = sympy.symbols("w_1_2 z_2_1")
    form = (((1, 1), w), ((1, 2), 1))
    assert product_entry(form, upstream_first=True, full=False) == "g₁,₁ w₁,₂ + g₁,₂"
    assert product_entry((((2, 1), z),), upstream_first=False, full=False) == "z₂,₁ g₂,₁"
    assert product_entry((), upstream_first=True, full=False) == "0"
    assert (
        product_entry((((1, 1), w + z),), upstream_first=True, full=False) == "g₁,₁ (w₁,₂ + z₂,₁)"
    )


def test_number_matrices_elide_like_symbol_matrices() -> None:
    side = MATRIX_SIDE + 2
    cells = matrix_cells(side, 1, lambda i, j: str(Fraction(i + 1)), full=False)
    assert [row[0] for row in cells] == ["1", "2", "3", "⋮", str(side - 1), str(side)]


# --- Copy-safe highlighting: what is copied from a terminal is what a pipe gets -----------------

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_MATGRAD = [sys.executable, "-m", "matgrad_cli"]


def _derive_and_jacobian() -> list[object]:
    from matgrad_cli.core.derive import derive
    from matgrad_cli.core.jacobians import jacobian

    return [derive(2, 2, 2), derive(2, 3, 2, bias=False), jacobian(2, 2, 2)]


@pytest.mark.parametrize("fmt", ["latex", "markdown", "json"])
def test_highlighted_output_on_a_narrow_console_is_the_piped_text_line_for_line(fmt: str) -> None:
    """Highlighted into a console 40 columns wide, with colour: the same lines, unwrapped and
    unpadded, once the colour is stripped; so whatever is copied from the screen compiles (or
    parses) exactly like the piped output."""
    from matgrad_cli.cli.deliver import print_highlighted
    from matgrad_cli.present import render

    for result in _derive_and_jacobian():
        options = {"standalone": True} if fmt == "latex" else {}
        piped = render(result, fmt, **options)
        assert max(len(line) for line in piped.splitlines()) > 40  # there is something to wrap
        console = Console(file=io.StringIO(), width=40, force_terminal=True, record=True)
        print_highlighted(piped, fmt, console)
        shown = console.file.getvalue()  # type: ignore[attr-defined]
        assert "\x1b[" in shown
        assert _ANSI.sub("", shown).splitlines() == piped.splitlines()
        assert console.export_text(styles=False) == piped


def _on_pty(args: list[str], columns: int) -> str:
    """What ``matgrad ARGS`` shows on a real pseudo-terminal ``columns`` wide, colour stripped."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(columns)}
    env.pop("NO_COLOR", None)
    command = [*_MATGRAD, *args]
    child = subprocess.Popen(command, stdout=follower, stderr=subprocess.DEVNULL, env=env)
    os.close(follower)
    chunks = []
    try:
        while chunk := _read(leader):
            chunks.append(chunk)
    finally:
        os.close(leader)
        child.wait(timeout=120)
    return _ANSI.sub("", b"".join(chunks).decode("utf-8")).replace("\r\n", "\n")


def _read(descriptor: int) -> bytes:
    """The next bytes of a pseudo-terminal, empty at its end (EIO once the child closed it)."""
    import os

    try:
        return os.read(descriptor, 1 << 16)
    except OSError:
        return b""


@pytest.mark.parametrize(
    "args",
    [
        ["derive"],
        ["derive", "--standalone", "--loss", "softmax-cross-entropy"],
        ["derive", "-f", "markdown", "-m", "3"],
        ["jacobian"],
        ["jacobian", "-f", "markdown"],
    ],
)
def test_a_real_terminal_40_columns_wide_shows_the_piped_lines(args: list[str]) -> None:
    piped = subprocess.run(
        [*_MATGRAD, *args], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert _on_pty(args, 40).splitlines() == piped.splitlines()
