"""The notation of ``matgrad check``: every identity matgrad prints is accepted and judged right,
``*`` between matrices is explained rather than guessed, ``--dialect`` reads it as the matrix
product, the new notation stays within the limits and the cost budget, and the table of
docs/claims.md reads as it says."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from matgrad_cli.cli import app
from matgrad_cli.core.claims import CheckTooCostly, check
from matgrad_cli.core.claims.answers import expected_tree
from matgrad_cli.core.claims.cost import BUDGET, Meter, claim_cost
from matgrad_cli.core.claims.judge import DEFAULT_SIZES, default_sizes, judge_claims
from matgrad_cli.core.claims.parser import MAX_CLAIM_LENGTH, MAX_NESTING, parse_claim
from matgrad_cli.core.claims.repairs import ELEMENTWISE_MESSAGE, hinted
from matgrad_cli.core.claims.tree import Claim, to_text
from matgrad_cli.core.layer import Sizes
from matgrad_cli.errors import ClaimSyntaxError

from .test_check_corpus import ANSWERS, _arguments, _network_arguments

ROOT = Path(__file__).resolve().parent.parent
LOSSES = ("generic", "sum", "squared-error", "softmax-cross-entropy")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


# --- the round trip: every identity matgrad prints is a right claim --------------------------

#: An identity about ∂L/∂Z, ∂L/∂W or ∂L/∂b as the text views print it, up to where the sentence
#: or the table cell goes on (", entry by entry", three spaces, a semicolon, a final stop).
_TEXT_IDENTITY = re.compile(
    r"∂L/∂[ZWb] = (?![⎡\[])[^,;\n<]*?(?:, L =\s+[a-z-]+)?(?=, |   | \(|;|<|\.?$|\.\s)",
    re.MULTILINE,
)
#: The same in LaTeX and Markdown: inline maths, and boxed displays.
_LATEX_INLINE = re.compile(r"\$(\\partial L/\\partial [ZWb] = [^$]*)\$")
_LATEX_BOXED = "\\boxed{"
#: How an identity about a gradient of L begins; the Jacobians' identities (vec(A) = …) are
#: about ∂A/∂W, not a gradient a claim is about.
_GRADIENT_STARTS = ("∂L/∂", "\\partial L/", "\\frac{\\partial L}")
#: Identities that are no formula: the gradient with the bias equals the one without it.
_NOT_A_FORMULA = "without the bias"


def _matgrad(*args: str) -> tuple[str, str]:
    """stdout and stderr of the installed matgrad command."""
    done = subprocess.run(
        [str(Path(sys.executable).parent / "matgrad"), *args],
        env={**os.environ, "COLUMNS": "1000"},  # no line wraps inside an identity
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, done.stderr


def _boxed(output: str) -> Iterator[str]:
    """What each ``\\boxed{…}`` holds, up to its matching brace."""
    start = output.find(_LATEX_BOXED)
    while start >= 0:
        depth, end = 1, start + len(_LATEX_BOXED)
        while depth and end < len(output):
            depth += {"{": 1, "}": -1}.get(output[end], 0)
            end += 1
        yield output[start + len(_LATEX_BOXED) : end - 1]
        start = output.find(_LATEX_BOXED, end)


def _identities(output: str, fmt: str) -> Iterator[str]:
    if fmt == "json":
        for match in re.finditer(r'"identity": "([^"]*)"', output):
            yield json.loads(f'"{match.group(1)}"')
        return
    if fmt in ("latex", "markdown", "beamer"):
        yield from _LATEX_INLINE.findall(output)
        yield from _boxed(output)
    # A long line wraps before the loss's name: the identity is taken across the break.
    yield from (" ".join(match.group(0).split()) for match in _TEXT_IDENTITY.finditer(output))


def printed_identities() -> dict[tuple[str, str], str]:
    """Every identity about ∂L/∂Z, ∂L/∂W or ∂L/∂b that derive and prove print, in every format
    and under every loss, with the stderr summary line, each with the loss it was printed under
    and where: collected from the real outputs, not written down here."""
    found: dict[tuple[str, str], str] = {}
    runs: list[tuple[tuple[str, ...], str]] = [
        (("derive", "--loss", loss, "--format", fmt), loss)
        for loss in LOSSES
        for fmt in ("text", "json", "latex", "markdown")
    ]
    runs += [(("derive", "--format", fmt), "generic") for fmt in ("beamer", "html")]
    runs += [(("prove", "--format", fmt), "generic") for fmt in ("text", "json", "latex")]
    runs += [
        (("jacobian", "--format", fmt), "generic") for fmt in ("text", "json", "latex", "markdown")
    ]
    for args, loss in runs:
        fmt = args[-1]
        stdout, stderr = _matgrad(*args)
        for identity in (*_identities(stdout, fmt), *_identities(stderr, "text")):
            if identity.startswith(_GRADIENT_STARTS) and _NOT_A_FORMULA not in identity:
                found.setdefault((identity.strip(), loss), " ".join(args))
    return found


@pytest.fixture(scope="module")
def identities() -> dict[tuple[str, str], str]:
    return printed_identities()


def test_the_identities_are_collected_from_every_format(
    identities: dict[tuple[str, str], str],
) -> None:
    texts = {identity for identity, _ in identities}
    assert "∂L/∂Z = ∂L/∂A · Wᵀ" in texts  # the stderr line of derive
    assert any(text.startswith(r"\frac{\partial L}") for text in texts)
    assert any(text.startswith(r"\partial L/\partial b") for text in texts)
    assert any(", L = squared-error" in text for text in texts)
    assert len(texts) >= 12


def test_every_identity_matgrad_prints_is_judged_right(
    identities: dict[tuple[str, str], str],
) -> None:
    wrong = []
    for (identity, loss), where in sorted(identities.items()):
        try:
            report = check(identity, loss=loss)
        except ClaimSyntaxError as error:
            wrong.append(f"{where}: {identity!r}: {error.message}")
            continue
        if not report.correct:
            wrong.append(f"{where}: {identity!r} judged wrong")
    assert not wrong, "\n".join(wrong)


def test_the_right_answers_check_prints_are_right_under_every_loss() -> None:
    for loss in LOSSES:
        code, stdout, _ = run("check", "dZ = G", "dW = G", "db = b", "--loss", loss, "-f", "json")
        assert code == 1
        formulas = [claim["correct_formula"] for claim in json.loads(stdout)["claims"]]
        assert check(formulas, loss=loss).correct


def test_a_claim_naming_another_loss_than_the_one_checked_is_refused() -> None:
    with pytest.raises(ClaimSyntaxError) as caught:
        check("∂L/∂W = Zᵀ · ∂L/∂A, L = squared-error")
    assert caught.value.message == (
        "the claim names the loss 'squared-error': check it with --loss squared-error"
    )
    assert check("∂L/∂W = Zᵀ · ∂L/∂A, L = squared-error", loss="squared-error").correct


# --- * between matrices ------------------------------------------------------------------------


def test_star_between_matrices_is_wrong_and_the_explanation_starts_with_why() -> None:
    code, stdout, stderr = run("check", "dW = Z.T * G")
    assert (code, stderr) == (1, "")
    assert stdout.splitlines()[1].strip().startswith("Hint: `*` is elementwise in NumPy")
    lines = check("dW = Z.T * G").to_text(width=200).splitlines()
    assert lines[0].startswith("✗ dW = Z.T * G")
    assert lines[1].strip().startswith(f"Hint: {ELEMENTWISE_MESSAGE}")
    assert ELEMENTWISE_MESSAGE == (
        "`*` is elementwise in NumPy; as a matrix product (`@`) your answer is right"
    )
    code, stdout, _ = run("check", "dW = Z.T * G", "-f", "json")
    assert json.loads(stdout)["claims"][0]["hint_kind"] == "elementwise_product"


def test_star_is_the_matrix_product_under_the_matlab_and_math_dialects() -> None:
    for dialect in ("matlab", "math"):
        code, stdout, _ = run("check", "dW = Z' * G", "--dialect", dialect)
        assert code == 0, stdout
        assert "read as the matrix product" in stdout
    code, _, stderr = run("check", "dW = Z' * G", "--dialect", "fortran")
    assert code == 2
    assert "fortran" in stderr


def test_matlab_quote_alone_does_not_switch_the_dialect_the_hint_says_so() -> None:
    report = check("dW = Z' * G")
    assert not report.correct
    assert report.hint is not None
    assert "MATLAB's '" in report.hint
    assert "--dialect matlab" in report.hint
    plain = check("dW = Z.T * G")
    assert plain.hint is not None
    assert "MATLAB's '" not in plain.hint


def test_elementwise_products_that_fit_are_judged_on_their_values() -> None:
    assert check("db = np.sum(np.ones_like(G) * G, axis=0)").correct
    report = check("dZ = G * G @ W.T")
    assert not report.correct
    assert report.reason == "values"


def test_the_words_scalar_product_are_gone() -> None:
    sources = [*(ROOT / "matgrad_cli").rglob("*.py"), *(ROOT / "docs").glob("*.md")]
    assert not [path for path in sources if "scalar product" in path.read_text(encoding="utf-8")]


# --- 1-D results, the size of 1, division ----------------------------------------------------


def test_a_one_dimensional_result_is_compared_as_a_row_and_the_report_says_so() -> None:
    report = check("db = G.sum(0)")
    assert report.correct
    (note,) = report.verdicts[0].notes
    assert note == (
        "sum(G, axis=0) is a 1-D array in NumPy (no keepdims=True); it was compared as the 1×n row"
    )
    assert "Read: sum(G, axis=0) is a 1-D array" in report.to_text(width=200)
    assert check("db = G.sum(0, keepdims=True)").verdicts[0].notes == ()


def test_the_size_of_a_one_is_taken_from_its_neighbour() -> None:
    assert to_text(parse_claim("db = 1ᵀ G").expr) == "ones(m, 1)ᵀ @ G"
    assert (
        to_text(parse_claim("dW = (1ᵀ Z)ᵀ (1ᵀ G)").expr) == "(ones(m, 1)ᵀ @ Z)ᵀ @ (ones(m, 1)ᵀ @ G)"
    )
    assert to_text(parse_claim(r"dZ = \mathbf{1}^\top W").expr) == "ones(k, 1)ᵀ @ W"
    assert to_text(parse_claim("dZ = G 1").expr) == "G @ ones(n, 1)"


@pytest.mark.parametrize(
    ("claim", "kind"),
    [
        ("dW = Z.T @ G / m", "divided"),
        ("db = np.mean(G, axis=0)", "mean_not_sum"),
        ("dW = Z.T * G", "elementwise_product"),
    ],
)
def test_new_slips_have_their_hints(claim: str, kind: str) -> None:
    verdict = check(claim).verdicts[0]
    assert not verdict.correct
    assert verdict.hint_kind == kind


def test_a_division_by_zero_is_a_wrong_shape_at_the_size_where_it_happens() -> None:
    verdict = check("dZ = G @ W.T / (m - 2)").verdicts[0]
    assert verdict.reason == "shape"
    assert verdict.shape_message is not None
    assert "division by zero at m = 2" in verdict.shape_message


# --- hostile input, limits, parse errors ---------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "dZ = " + "{" * (MAX_NESTING + 1) + "G" + "}" * (MAX_NESTING + 1),
        "dZ = " + r"\left(" * (MAX_NESTING + 1) + "G" + r"\right)" * (MAX_NESTING + 1),
        "dZ = " + "np.sum(" * (MAX_NESTING + 1) + "G" + ", axis=0)" * (MAX_NESTING + 1),
        "dZ = " + "G.T.dot(" * (MAX_NESTING + 1) + "G" + ")" * (MAX_NESTING + 1),
        "dZ = G" + "ᵀ" * (MAX_NESTING + 1),
        "dZ = " + " ".join(["G"] * (MAX_NESTING + 2)),
    ],
)
def test_the_nesting_limits_hold_for_the_new_notation(text: str) -> None:
    with pytest.raises(ClaimSyntaxError) as caught:
        parse_claim(text)
    assert "nested" in caught.value.message


def test_the_length_limit_holds() -> None:
    with pytest.raises(ClaimSyntaxError) as caught:
        parse_claim(r"dZ = \left( G W^\top \right)" + " " * MAX_CLAIM_LENGTH)
    assert "longer than" in caught.value.message


def test_a_parse_error_in_new_notation_is_one_line_and_a_caret() -> None:
    code, stdout, stderr = run("check", r"dW = Z^\top \exp(G)")
    assert (code, stdout) == (2, "")
    first, claim, caret = stderr.splitlines()
    assert first.startswith(r"matgrad: error: unknown LaTeX command '\exp'")
    assert (claim, caret) == (r"dW = Z^\top \exp(G)", " " * 12 + "^")


def test_no_language_module_evaluates_text() -> None:
    for name in ("lexer", "spellings", "calls", "parser", "shapes", "evaluation", "cost", "tree"):
        source = (ROOT / "matgrad_cli" / "core" / "claims" / f"{name}.py").read_text()
        for forbidden in ("eval(", "exec(", "sympify", "parse_expr", "compile(", "__import__"):
            assert forbidden not in source.replace("evaluate(", ""), (name, forbidden)


_PIECES = [
    *"ZWbGYA.T'^{}()_1m,*@/ ·ᵀ−\\",
    "\\frac",
    "\\top",
    "np.",
    "sum(",
    "axis=0",
    "\\mathbf{1}",
    "dL/d",
    "\\partial ",
]


def _parsed_or_error(text: str) -> object:
    try:
        return parse_claim(text)
    except ClaimSyntaxError as error:
        return error


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
def test_any_text_in_the_new_alphabet_parses_or_is_one_positioned_error(text: str) -> None:
    claim = "dW = " + text
    outcome = _parsed_or_error(claim)  # any other exception fails the test
    if isinstance(outcome, ClaimSyntaxError):
        assert 0 <= outcome.position <= len(claim)
        assert "\n" not in outcome.message
        return
    assert isinstance(outcome, Claim)
    assert parse_claim(f"d{outcome.target} = {to_text(outcome.expr)}").expr == outcome.expr


# --- the cost budget bounds the new notation -----------------------------------------------


def _estimate(claim: str, sizes: tuple[Sizes, ...], loss: str, dialect: str) -> int:
    samples = sizes[0].samples
    parsed = parse_claim(claim, dialect, samples)  # type: ignore[arg-type]
    target = expected_tree(parsed.target, samples)
    return claim_cost(parsed.expr, target, sizes, loss, hinted(parsed.expr)).operations


def test_every_corpus_answer_spends_within_its_estimate() -> None:
    for answer in ANSWERS:
        if answer.exit == 2 or _network_arguments(answer.options) is not None:
            continue  # refused; or about a network, whose estimate network_cost.py makes
        arguments = _arguments(answer.options)
        given = arguments.get("sizes")
        samples = arguments["samples"]
        assert samples in ("rows", "columns")
        sizes = (given,) if isinstance(given, Sizes) else default_sizes(samples)
        loss = str(arguments.get("loss", "generic"))
        dialect = str(arguments.get("dialect", "numpy"))
        meter = Meter(BUDGET)
        judge_claims([answer.claim], sizes, loss, meter, dialect)  # type: ignore[arg-type]
        estimate = _estimate(answer.claim, sizes, loss, dialect)
        assert 0 < meter.spent <= estimate, (answer.line, meter.spent, estimate)


_PARTS = {
    ("m", "n"): ["G", "A", "np.ones_like(G)", "(G * G)", "G / m", "np.ones((m, n))"],
    ("n", "m"): ["G.T", "Gᵀ", "np.transpose(A)"],
    ("k", "n"): ["W", "(W * W)", "W / 2"],
    ("n", "k"): ["W.T", "W'", r"W^\top"],
    ("m", "k"): ["Z", "np.ones_like(Z) * Z"],
    ("k", "m"): ["Z.T", "Z.t()", "np.ones((k, m))"],
    ("m", "m"): ["G G^T", "Z @ Z.T"],
    ("n", "n"): ["W.T W", "np.matmul(G.T, G)"],
    ("k", "k"): ["W.dot(W.T)", "Z.T @ Z"],
}
_GRADIENTS = {"dZ": ("m", "k"), "dW": ("k", "n"), "db": ("1", "n")}


@st.composite
def notation_claims(draw: st.DrawFn) -> str:
    """A chain of parts in the new notation from the gradient's rows to its columns, joined by
    @ or side by side, perhaps divided, averaged or summed without keepdims."""
    target = draw(st.sampled_from(sorted(_GRADIENTS)))
    rows, cols = _GRADIENTS[target]
    at, parts = ("m" if rows == "1" else rows), []
    for _ in range(draw(st.integers(0, 4))):
        shape, choices = draw(
            st.sampled_from([item for item in _PARTS.items() if item[0][0] == at])
        )
        parts.append(f"({draw(st.sampled_from(choices))})")
        at = shape[1]
    last = [
        option for shape, options in _PARTS.items() if shape == (at, cols) for option in options
    ]
    parts.append(f"({draw(st.sampled_from(last or [f'np.ones(({at}, {cols}))']))})")
    joiner = draw(st.sampled_from([" @ ", " ", " · "]))
    expression = joiner.join(parts)
    if rows == "1":
        expression = draw(st.sampled_from(["np.sum({}, axis=0)", "({}).mean(0)", "1ᵀ {}"])).format(
            expression
        )
    wrap = draw(st.sampled_from(["{}", "−({})", "({}) / m", "2 ({})"]))
    return f"{target} = {wrap.format(expression)}"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    claim=notation_claims(),
    sizes=st.sampled_from([DEFAULT_SIZES, (Sizes(3, 2, 2),), (Sizes(5, 4, 3),)]),
    loss=st.sampled_from(["generic", "squared-error"]),
)
def test_a_run_in_the_new_notation_ends_within_its_estimate(
    claim: str, sizes: tuple[Sizes, ...], loss: str
) -> None:
    meter = Meter(60_000)
    try:
        judge_claims([claim], sizes, loss, meter)
    except CheckTooCostly:
        assert meter.spent == 0
        return
    assert meter.spent <= _estimate(claim, sizes, loss, "numpy")


# --- docs/claims.md: the table "you wrote → matgrad read" ----------------------------------------

_ROW = re.compile(r"^\| `(?P<wrote>[^`]+)` +\| `(?P<read>[^`]+)` +\|", re.MULTILINE)


def table_rows() -> list[tuple[str, str]]:
    page = (ROOT / "docs" / "claims.md").read_text(encoding="utf-8")
    start = page.index("## You wrote → matgrad read")
    section = page[start : page.index("\n## ", start + 1)]
    return [(match["wrote"], match["read"]) for match in _ROW.finditer(section)]


def test_the_docs_table_has_a_row_for_every_notation() -> None:
    assert len(table_rows()) >= 30


@pytest.mark.parametrize(("wrote", "read"), table_rows())
def test_each_row_of_the_docs_table_reads_as_it_says(wrote: str, read: str) -> None:
    dialect = "matlab" if "(matlab)" in wrote else "numpy"
    written = wrote.replace(" (matlab)", "")
    claim = written if "=" in written else f"dZ = {written}"
    parsed = parse_claim(claim, dialect)  # type: ignore[arg-type]
    shown = f"d{parsed.target} = {to_text(parsed.expr)}" if "=" in read else to_text(parsed.expr)
    assert shown == read


def test_a_counterexample_shows_what_a_and_the_softmax_are_computed_from() -> None:
    example = check("dW = Z.T @ A").counterexample
    assert example is not None
    assert [name for name, _ in example.operands] == ["Z", "W", "b", "G"]
