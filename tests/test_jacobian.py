"""The Jacobian view (`matgrad jacobian`): ∂A/∂W and ∂A/∂Z as matrices through vec, checked
against independent routes (SymPy's own Matrix.jacobian, sympy.kronecker_product, the matrix
products), wrong forms rejected, both layouts, every document form, and a real pdflatex compile.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest
import sympy
from rich.cells import cell_len

from matgrad_cli.core.engine import get_engine
from matgrad_cli.core.jacobians import (
    ENTRY_LIMIT,
    JacobianDerivation,
    JacobianVariable,
    Matrix,
    check_claim,
    compare_matrices,
    identity,
    jacobian,
    kronecker,
    read_block,
    transposed,
    validate_jacobian_sizes,
    vec,
    vec_order,
)
from matgrad_cli.errors import InputError, MatgradError, SizeError
from matgrad_cli.present import render
from matgrad_cli.present.jacobian_doc import build_jacobian_document
from matgrad_cli.present.json import jacobian_data, render_json

from .conftest import assert_golden, run_pdflatex
from .conftest import run_cli as run

SMALL_SIZES = list(itertools.product((1, 2, 3), repeat=3))
LAYOUTS = ("numerator", "denominator")


def render_jacobian_latex(view: JacobianDerivation, **options: bool) -> str:
    """The view in LaTeX, through the one door, as `matgrad jacobian` prints it."""
    return render(view, "latex", **options)


def render_jacobian_markdown(view: JacobianDerivation, **options: bool) -> str:
    """The view in Markdown, through the one door."""
    return render(view, "markdown", **options)


@pytest.fixture(scope="module")
def default_view() -> JacobianDerivation:
    return jacobian(2, 2, 2)


@pytest.fixture(scope="module")
def denominator_view() -> JacobianDerivation:
    return jacobian(2, 2, 2, layout="denominator")


def as_sympy(matrix: Matrix) -> sympy.Matrix:
    return sympy.Matrix([[sympy.sympify(get_engine().to_sympy(v)) for v in row] for row in matrix])


def sympy_layer(m: int, k: int, n: int) -> tuple[sympy.Matrix, sympy.Matrix, sympy.Matrix]:
    """Z, W and A = ZW in pure SymPy, with matgrad's symbol names but none of its code."""
    z = sympy.Matrix(m, k, lambda i, r: sympy.Symbol(f"z_{i + 1}_{r + 1}"))
    w = sympy.Matrix(k, n, lambda r, j: sympy.Symbol(f"w_{r + 1}_{j + 1}"))
    return z, w, z * w


# ---------------------------------------------------------------------------------------------
# Independent routes


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("sizes", SMALL_SIZES, ids=lambda s: "x".join(map(str, s)))
def test_jacobians_equal_sympys_own_jacobian_of_vec_a(
    sizes: tuple[int, int, int], layout: str
) -> None:
    # SymPy's Matrix.vec() stacks columns, and Matrix.jacobian puts the differentiated
    # functions in rows: the numerator layout, computed without any of matgrad's code.
    z, w, a = sympy_layer(*sizes)
    expected_w = a.vec().jacobian(w.vec())
    expected_z = a.vec().jacobian(z.vec())
    if layout == "denominator":
        expected_w, expected_z = expected_w.T, expected_z.T
    view = jacobian(*sizes, layout=layout)
    assert as_sympy(view.jacobians["W"].entries) == expected_w
    assert as_sympy(view.jacobians["Z"].entries) == expected_z
    assert view.verified
    assert [check.holds for check in view.checks] == [True] * 6


@pytest.mark.parametrize("sizes", SMALL_SIZES, ids=lambda s: "x".join(map(str, s)))
def test_kronecker_helper_agrees_with_sympys_kronecker_product(sizes: tuple[int, int, int]) -> None:
    m, k, n = sizes
    z, w, _ = sympy_layer(m, k, n)
    nested_z = tuple(tuple(row) for row in z.tolist())
    nested_wt = tuple(tuple(row) for row in w.T.tolist())
    ours = sympy.Matrix(kronecker(identity(n), nested_z))
    assert ours == sympy.kronecker_product(sympy.eye(n), z)
    assert sympy.Matrix(kronecker(nested_wt, identity(m))) == sympy.kronecker_product(
        w.T, sympy.eye(m)
    )


@pytest.mark.parametrize("layout", LAYOUTS)
def test_contractions_give_the_gradients_in_the_shape_of_their_variables(layout: str) -> None:
    m, k, n = 3, 2, 4
    view = jacobian(m, k, n, layout=layout)
    z, w, _ = sympy_layer(m, k, n)
    g = sympy.Matrix(m, n, lambda i, j: sympy.Symbol(f"dA_{i + 1}_{j + 1}"))
    engine = get_engine()
    cases: tuple[tuple[JacobianVariable, sympy.Matrix], ...] = (("W", z.T * g), ("Z", g * w.T))
    for variable, expected in cases:
        form = view.contractions[variable]
        assert form.shape == expected.shape  # gradients keep the shape of their variable
        values = sympy.Matrix(
            [
                [
                    sum(
                        (
                            sympy.Symbol(f"dA_{p}_{q}") * sympy.sympify(engine.to_sympy(factor))
                            for (p, q), factor in entry
                        ),
                        sympy.Integer(0),
                    )
                    for entry in row
                ]
                for row in form.entries
            ]
        )
        assert sympy.expand(values - expected) == sympy.zeros(*expected.shape)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_both_engines_give_the_same_jacobians(layout: str) -> None:
    with_symengine = jacobian(2, 3, 2, layout=layout, engine="symengine")
    with_sympy = jacobian(2, 3, 2, layout=layout, engine="sympy")
    assert with_sympy.verified
    for variable in ("W", "Z"):
        assert as_sympy(with_symengine.jacobians[variable].entries) == sympy.Matrix(
            with_sympy.jacobians[variable].entries
        )
    assert render_json(with_symengine) == render_json(with_sympy)


def test_vec_follows_column_major_order() -> None:
    assert vec_order(2, 3) == ((1, 1), (2, 1), (1, 2), (2, 2), (1, 3), (2, 3))
    assert vec(((1, 2, 3), (4, 5, 6))) == (1, 4, 2, 5, 3, 6)


def test_blocks_are_read_off_the_computed_jacobian(default_view: JacobianDerivation) -> None:
    symbols = default_view.symbols
    jacobian_w = default_view.jacobians["W"]
    assert read_block(jacobian_w, 0, 0, symbols).kind == "matrix"
    assert read_block(jacobian_w, 0, 1, symbols).kind == "zero"
    block = read_block(default_view.jacobians["Z"], 1, 0, symbols)
    assert block.kind == "scaled identity"
    assert str(block.scale) == "w_1_2"  # block (j, r) = (2, 1) is w_{1,2} I_m


# ---------------------------------------------------------------------------------------------
# Wrong forms must be rejected


def test_transposed_kronecker_factors_are_rejected() -> None:
    view = jacobian(2, 3, 2)
    z = view.symbols.input
    # Same shape as J_W at these sizes ((mn)×(kn) = 4×6), but the wrong entries.
    swapped = check_claim(view, "W", kronecker(z, identity(2)), "Z ⊗ I_n")
    assert swapped.shape == swapped.claimed_shape == (4, 6)
    assert not swapped.holds
    assert swapped.mismatch_count > 0
    assert swapped.mismatches[0].index == (1, 2)


def test_the_denominator_form_is_rejected_in_numerator_layout() -> None:
    view = jacobian(2, 2, 3)
    claim = check_claim(
        view, "W", kronecker(identity(3), transposed(view.symbols.input)), "I_n ⊗ Zᵀ"
    )
    assert claim.shape == claim.claimed_shape == (6, 6)
    assert not claim.holds
    assert claim.mismatch_count == 6  # the off-diagonal entries of the three Zᵀ blocks
    wrong_z = check_claim(view, "Z", kronecker(view.symbols.weights, identity(2)), "W ⊗ I_m")
    assert not wrong_z.holds


def test_the_numerator_form_is_rejected_in_denominator_layout() -> None:
    view = jacobian(2, 3, 2, layout="denominator")
    claim = check_claim(view, "W", kronecker(identity(2), view.symbols.input), "I_n ⊗ Z")
    assert not claim.holds
    assert claim.claimed_shape != claim.shape  # (mn)×(kn) = 4×6, not 6×4


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_notes_claim_that_da_dw_is_z_transposed_is_rejected(layout: str) -> None:
    view = jacobian(2, 3, 2, layout=layout)
    claim = view.notes_claim
    assert not claim.holds
    assert claim.shape == ((4, 6) if layout == "numerator" else (6, 4))
    assert claim.claimed_shape == (3, 2)  # Zᵀ is k×m
    assert claim.entries_checked == 0
    assert view.verified  # the notes' claim is not one of the identities


def test_the_notes_claim_fails_by_value_when_the_shapes_happen_to_agree() -> None:
    # n = 1 and m = k: J_W is Z itself, and Zᵀ has the same shape but not the same entries.
    claim = jacobian(2, 2, 1).notes_claim
    assert claim.shape == claim.claimed_shape == (2, 2)
    assert not claim.holds
    assert claim.mismatch_count == 2


def test_the_notes_claim_holds_only_at_degenerate_sizes() -> None:
    assert jacobian(1, 1, 1).notes_claim.holds
    assert jacobian(3, 2, 1, layout="denominator").notes_claim.holds  # I_1 ⊗ Zᵀ is Zᵀ
    assert not jacobian(3, 2, 2, layout="denominator").notes_claim.holds
    markdown = render_jacobian_markdown(jacobian(3, 2, 1, layout="denominator"))
    assert "only because $n = 1$" in markdown


def test_one_changed_entry_is_caught() -> None:
    view = jacobian(2, 2, 2)
    engine = get_engine()
    kron = [list(row) for row in view.jacobians["W"].kronecker]
    kron[2][3] = kron[2][3] + engine.symbol("z_1_1")
    check = compare_matrices(
        "jacobian",
        "W",
        "tampered",
        view.jacobians["W"].entries,
        tuple(tuple(row) for row in kron),
        engine,
    )
    assert not check.holds
    assert check.mismatch_count == 1
    assert check.mismatches[0].index == (3, 4)


def test_a_contraction_against_the_wrong_product_fails() -> None:
    view = jacobian(2, 2, 2)
    engine = get_engine()

    def values(variable: JacobianVariable) -> Matrix:
        form = view.contractions[variable]
        return tuple(
            tuple(
                engine.add([view.symbols.upstream[p - 1][q - 1] * f for (p, q), f in entry])
                for entry in row
            )
            for row in form.entries
        )

    # ∂L/∂W from the Jacobian is not G·Wᵀ, though both are 2×2 here.
    check = compare_matrices("contraction", "W", "wrong", values("W"), values("Z"), engine)
    assert not check.holds
    assert check.mismatch_count == 4


def test_a_failed_check_is_reported_as_failing_in_every_format() -> None:
    from dataclasses import replace

    view = jacobian(2, 2, 2)
    broken = check_claim(view, "W", kronecker(view.symbols.input, identity(2)), "Z ⊗ I_n")
    broken = replace(broken, kind="jacobian")
    tampered = replace(view, checks=(broken, *view.checks[1:]))
    assert not tampered.verified
    assert "NOT verified" in render_jacobian_latex(tampered)
    assert "Some identities FAIL" in render_jacobian_markdown(tampered)
    assert "✗ FAILS" in render(tampered, "text")
    assert '"verified": false' in render_json(tampered)
    assert (
        r"\boxed{\frac{\partial \operatorname{vec}(A)}{\partial \operatorname{vec}(W)^\top}"
        not in (render_jacobian_latex(tampered))
    )


# ---------------------------------------------------------------------------------------------
# Documents


def test_golden_documents_for_the_default_layer(
    default_view: JacobianDerivation, denominator_view: JacobianDerivation
) -> None:
    assert_golden(render_jacobian_latex(default_view), "jacobian/2x2x2.tex")
    assert_golden(
        render_jacobian_latex(default_view, standalone=True), "jacobian/2x2x2-standalone.tex"
    )
    assert_golden(render_jacobian_markdown(default_view), "jacobian/2x2x2.md")
    assert_golden(render_json(default_view), "jacobian/2x2x2.json")
    assert_golden(render(default_view, "text", width=80), "jacobian/2x2x2.txt")
    assert_golden(render_jacobian_markdown(denominator_view), "jacobian/2x2x2-denominator.md")
    assert_golden(render(denominator_view, "text", width=80), "jacobian/2x2x2-denominator.txt")
    assert_golden(render(jacobian(3, 2, 4), "text", width=80), "jacobian/3x2x4.txt")


def test_the_document_follows_its_sections(default_view: JacobianDerivation) -> None:
    titles = re.findall(r"\\section\*\{(.*?)\}\n", render_jacobian_latex(default_view))
    assert titles == [
        "Setup and conventions",
        "The Jacobian of $A$ with respect to $W$",
        "The Jacobian of $A$ with respect to $Z$",
        "Contracting with $\\partial L/\\partial A$",
        "Why $\\partial Y/\\partial W = X^\\top$ is wrong",
        "The general case in index notation",
        "Summary",
    ]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_document_states_its_layout(layout: str) -> None:
    text = render_jacobian_markdown(jacobian(2, 3, 2, layout=layout))
    assert f"Convention: {layout} layout" in text
    assert f", {layout} layout" in text.splitlines()[0]
    if layout == "numerator":
        assert (
            r"J_W = \frac{\partial \operatorname{vec}(A)}{\partial \operatorname{vec}(W)^\top}"
            in text
        )
        assert r"$mn \times kn = 4 \times 6$" in text
        jacobian_w = r"\frac{\partial \operatorname{vec}(A)}{\partial \operatorname{vec}(W)^\top}"
        assert rf"\boxed{{{jacobian_w} = I_n \otimes Z}}" in text
    else:
        assert r"$kn \times mn = 6 \times 4$" in text
        jacobian_w = r"\frac{\partial \operatorname{vec}(A)^\top}{\partial \operatorname{vec}(W)}"
        assert rf"\boxed{{{jacobian_w} = I_n \otimes Z^\top}}" in text
    # The gradients keep the shape of their variable, whatever the Jacobian layout.
    assert r"\partial L/\partial W$ has the shape of $W$" in text
    assert r"\boxed{\frac{\partial L}{\partial W} = Z^\top \frac{\partial L}{\partial A}}" in text


def test_the_document_explains_why_dy_dw_is_not_x_transposed(
    default_view: JacobianDerivation,
) -> None:
    text = render_jacobian_markdown(default_view)
    section = text[text.index("## Why") : text.index("## The general case")]
    assert "fourth-order tensor" in section
    assert r"z_{i,r} \delta_{j,q}" in section
    assert r"the shapes differ ($4 \times 4$ against $2 \times 2$)" in section
    assert "appears only after contracting" in section


def test_the_block_matrix_shows_z_on_the_diagonal(default_view: JacobianDerivation) -> None:
    text = render_jacobian_latex(default_view)
    assert "J_W = \\begin{bmatrix}\nZ & 0 \\\\\n0 & Z\n\\end{bmatrix}" in text
    assert "w_{1,1} \\, I_{2} & w_{2,1} \\, I_{2}" in text


def test_large_matrices_are_elided_unless_full() -> None:
    view = jacobian(7, 3, 2)
    elided = render_jacobian_latex(view)
    full = render_jacobian_latex(view, full=True)
    assert r"\cdots" in elided
    assert r"\ddots" in elided
    assert r"\ddots" not in full
    assert "a_{7,2}" in full
    # vec(Z) has mk = 21 entries: printed whole only with --full, MaxMatrixCols raised for it.
    assert "\\setcounter{MaxMatrixCols}{21}" in full
    assert full.count("MaxMatrixCols") == 1
    assert "MaxMatrixCols" not in elided
    assert (
        "MaxMatrixCols"
        not in render_jacobian_latex(view, full=True, standalone=True).split("\\begin{document}")[1]
    )
    text = render(view, "text")
    assert "⋮" in text
    assert "⋯" in text


def test_markdown_uses_only_display_math_that_renders_on_github(
    default_view: JacobianDerivation,
) -> None:
    text = render_jacobian_markdown(default_view)
    assert "\\begin{align*}" not in text
    assert "\\\\[" not in text
    assert text.count("$$") % 2 == 0
    assert "| identity | shape | result |" in text


def test_documents_are_byte_identical_for_the_same_arguments() -> None:
    assert render_jacobian_latex(jacobian(2, 3, 2)) == render_jacobian_latex(jacobian(2, 3, 2))
    assert render_json(jacobian(2, 3, 2)) == render_json(jacobian(2, 3, 2))


@pytest.mark.parametrize(
    "sizes", [(2, 2, 2), (3, 2, 4), (8, 7, 9)], ids=["2x2x2", "3x2x4", "8x7x9"]
)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_text_view_fits_80_columns(sizes: tuple[int, int, int], layout: str) -> None:
    text = render(jacobian(*sizes, layout=layout), "text", width=80)
    assert max(cell_len(line) for line in text.splitlines()) <= 80


def test_text_view_says_when_a_full_matrix_is_too_wide() -> None:
    text = render(jacobian(5, 4, 5), "text", width=80, full=True)
    assert "J_W is too wide for 80 columns" in text
    assert max(cell_len(line) for line in text.splitlines()) <= 80


def test_text_view_labels_rows_and_columns(default_view: JacobianDerivation) -> None:
    text = render(default_view, "text")
    assert "        w₁,₁  w₂,₁  w₁,₂  w₂,₂" in text
    assert "  a₁,₁ ⎡z₁,₁  z₁,₂  0     0   ⎤" in text


def test_json_has_the_documented_fields(default_view: JacobianDerivation) -> None:
    data = json.loads(render_json(default_view))
    assert data["kind"] == "jacobian"
    assert data["layout"] == "numerator"
    assert data["sizes"] == {"m": 2, "k": 2, "n": 2}
    assert data["verified"] is True
    assert [check["kind"] for check in data["checks"]] == [
        "jacobian",
        "jacobian",
        "vec",
        "vec",
        "contraction",
        "contraction",
    ]
    assert data["notes_claim"]["holds"] is False
    assert data["rows"]["W"] == ["a_1_1", "a_2_1", "a_1_2", "a_2_2"]
    assert data["columns"]["W"] == ["w_1_1", "w_2_1", "w_1_2", "w_2_2"]
    assert data == jacobian_data(default_view)  # plain data: nothing is lost in dumping


@pytest.mark.parametrize("layout", LAYOUTS)
def test_json_entries_evaluate_to_sympys_jacobian(layout: str) -> None:
    m, k, n = 2, 3, 2
    data = json.loads(render_json(jacobian(m, k, n, layout=layout)))
    z, w, a = sympy_layer(m, k, n)
    for name, variable in (("W", w), ("Z", z)):
        expected = a.vec().jacobian(variable.vec())
        if layout == "denominator":
            expected = expected.T
        assert sympy.Matrix(data["jacobians"][name]).applyfunc(sympy.sympify) == expected
        assert data["shapes"][name] == list(expected.shape)
    g = sympy.Matrix(m, n, lambda i, j: sympy.Symbol(f"dA_{i + 1}_{j + 1}"))
    gradient_w = sympy.Matrix(data["gradients"]["W"]).applyfunc(sympy.sympify)
    assert sympy.expand(gradient_w - z.T * g) == sympy.zeros(k, n)


# ---------------------------------------------------------------------------------------------
# Input


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ((0, 2, 2), "size m must be a positive integer, got 0"),
        ((2, -1, 2), "size k must be a positive integer, got -1"),
        ((2, 2, True), "size n must be a positive integer, got True"),
        ((2, 2.5, 2), "size k must be a positive integer, got 2.5"),
        ((40, 40, 40), "above the limit of"),
    ],
)
def test_bad_sizes_are_one_line_errors_with_exit_code_2(
    sizes: tuple[Any, ...], message: str
) -> None:
    with pytest.raises(SizeError) as raised:
        jacobian(*sizes)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
    assert raised.value.exit_code == 2


def test_an_unknown_layout_is_an_input_error() -> None:
    with pytest.raises(
        InputError, match="unknown layout 'row' \\(choose from numerator, denominator\\)"
    ):
        jacobian(2, 2, 2, layout="row")


def test_the_entry_limit_is_checked_before_any_work() -> None:
    validate_jacobian_sizes(17, 17, 17)
    with pytest.raises(MatgradError, match=str(ENTRY_LIMIT)):
        validate_jacobian_sizes(20, 20, 20)


# ---------------------------------------------------------------------------------------------
# pdflatex


def _compile(source: str, folder: Path, name: str = "jacobian") -> str:
    """Compile with pdflatex, stop at the first error, and return the log."""
    result = run_pdflatex(source, folder, name)
    assert result.returncode == 0, result.stdout[-3000:]
    assert (folder / f"{name}.pdf").stat().st_size > 10_000
    return (folder / f"{name}.log").read_text(encoding="latin-1")


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("sizes", [(2, 2, 2), (3, 2, 4)], ids=["2x2x2", "3x2x4"])
def test_standalone_document_compiles_without_overfull_lines(
    sizes: tuple[int, int, int], layout: str, tmp_path: Path
) -> None:
    log = _compile(
        render_jacobian_latex(jacobian(*sizes, layout=layout), standalone=True), tmp_path
    )
    assert "Overfull \\hbox" not in log, "a line runs into the margin"
    assert "Undefined control sequence" not in log


def test_fragment_compiles_inside_a_minimal_document(tmp_path: Path) -> None:
    # --full at 3×2×4 prints vec(A) with 12 columns, beyond amsmath's default of 10: the
    # fragment raises MaxMatrixCols itself.
    fragment = render_jacobian_latex(jacobian(3, 2, 4), full=True)
    assert "\\setcounter{MaxMatrixCols}{12}" in fragment
    source = (
        "\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\begin{document}\n"
        + fragment
        + "\\end{document}\n"
    )
    log = _compile(source, tmp_path, "notes")
    assert "Undefined control sequence" not in log


def test_document_blocks_are_all_reused_types(default_view: JacobianDerivation) -> None:
    from matgrad_cli.present.document import Display, Paragraph, Table

    document = build_jacobian_document(default_view)
    kinds = {type(block) for section in document.sections for block in section.blocks}
    assert kinds <= {Display, Paragraph, Table}


# ---------------------------------------------------------------------------------------------
# The command line (active once cli.py registers `matgrad jacobian`)


@pytest.mark.parametrize(
    ("output_format", "golden"),
    [
        ("latex", "2x2x2.tex"),
        ("markdown", "2x2x2.md"),
        ("json", "2x2x2.json"),
        ("text", "2x2x2.txt"),
    ],
)
def test_command_prints_each_format_and_exits_0(
    output_format: str, golden: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["jacobian", "--format", output_format], capsys)
    assert code == 0
    expected = Path(__file__).parent / "golden" / "jacobian" / golden
    assert out == expected.read_text(encoding="utf-8")
    if output_format != "text":
        assert err.startswith("matgrad: verified (m=2, k=2, n=2, numerator layout)")
        assert len(err.strip().splitlines()) == 1


def test_command_takes_the_layout(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["jacobian", "--layout", "denominator", "--format", "markdown"], capsys)
    assert code == 0
    assert out == render_jacobian_markdown(jacobian(2, 2, 2, layout="denominator"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--m", "0"], "size m must be a positive integer, got 0"),
        (["--k", "two"], "size k must be a positive integer, got 'two'"),
        (["--m", "30", "--k", "30", "--n", "30"], "above the limit of"),
        (["--layout", "row"], "'row' is not one of"),
        (["--standalone", "--format", "markdown"], "--standalone applies to --format latex only"),
    ],
)
def test_command_rejects_bad_input_in_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["jacobian", *args], capsys)
    assert code == 2
    assert out == ""
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_command_writes_files_atomically_and_never_clobbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "jacobian.tex"
    assert run(["jacobian", "-o", str(target), "--standalone"], capsys)[0] == 0
    assert target.read_text(encoding="utf-8").startswith("\\documentclass")
    code, _, err = run(["jacobian", "-o", str(target)], capsys)
    assert code == 2
    assert "already exists" in err
    assert target.read_text(encoding="utf-8").startswith("\\documentclass")
    assert run(["jacobian", "-o", str(target), "--force"], capsys)[0] == 0
    assert target.read_text(encoding="utf-8").startswith("% The Jacobians")
