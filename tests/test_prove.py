"""`matgrad prove`: the size-independent proof, its independent cross-checks, its refusals to call
a wrong or unfinished derivation proved, its documents (golden files, pdflatex), and its CLI."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import sympy

import matgrad_cli.core.proof as proof_module
from matgrad_cli import derive
from matgrad_cli.core.layer import Variable
from matgrad_cli.core.proof import STANDARD_CLAIMS, Claim, Proof, ProofReport, prove, prove_identity
from matgrad_cli.core.proof_cas import STEP_SECONDS, CASSteps, Setting, setting
from matgrad_cli.present import render
from matgrad_cli.present.derivation_checks import PROVENANCE
from matgrad_cli.present.json import proof_data
from matgrad_cli.present.latex import latex_text
from matgrad_cli.present.markdown import markdown_text
from matgrad_cli.present.prove_doc import proof_document
from matgrad_cli.present.prove_notation import ProofNotation, proof_notation

from .conftest import assert_golden, run_pdflatex
from .conftest import run_cli as run

SYMBOLS = setting()
SIZES = [(m, k, n) for m in range(1, 4) for k in range(1, 4) for n in range(1, 4)]


@pytest.fixture(scope="module")
def report() -> ProofReport:
    return prove()


@pytest.fixture(scope="module")
def report_without_bias() -> ProofReport:
    return prove(bias=False)


def _proof(report: ProofReport, variable: Variable) -> Proof:
    return next(proof for proof in report.proofs if proof.variable == variable)


def _written(proof: Proof) -> ProofNotation:
    """The proof as the documents write it: every step's LaTeX, text and description."""
    return proof_notation(proof)


def _wrong(variable: Variable, text: str, build: Callable[[Setting], Any]) -> Claim:
    return Claim(variable, rf"\text{{{text}}}", text, build)


# --- the proof itself ---------------------------------------------------------------------------


def test_every_identity_is_proved_for_symbolic_sizes(
    report: ProofReport, report_without_bias: ProofReport
) -> None:
    assert report.proved
    assert [proof.variable for proof in report.proofs] == ["Z", "W", "b"]
    assert [proof.variable for proof in report_without_bias.proofs] == ["Z", "W"]
    assert report_without_bias.proved
    for proof in (*report.proofs, *report_without_bias.proofs):
        assert proof.proved
        assert _written(proof).reason == ""
        assert all(step.proved for step in proof.steps)


def test_the_derivation_of_dz_follows_the_issue_step_by_step(report: ProofReport) -> None:
    proof = _written(_proof(report, "Z"))
    latex = [step.latex for step in proof.steps]
    assert latex == [
        r"\sum_{s=1}^{k} z_{p,s} w_{s,q} + b_{q}",
        r"\sum_{s=1}^{k} \delta_{i,p} \delta_{r,s} w_{s,q}",
        r"\sum_{p=1}^{m} \sum_{q=1}^{n} \frac{\partial L}{\partial a_{p,q}} "
        r"\sum_{s=1}^{k} \delta_{i,p} \delta_{r,s} w_{s,q}",
        r"\sum_{p=1}^{m} \sum_{q=1}^{n} \frac{\partial L}{\partial a_{p,q}} \delta_{i,p} w_{r,q}",
        r"\sum_{q=1}^{n} \frac{\partial L}{\partial a_{i,q}} w_{r,q}",
        r"\left(\frac{\partial L}{\partial A} W^\top\right)_{i,r}",
    ]
    assert proof.statement_latex == (
        r"\frac{\partial L}{\partial Z} = \frac{\partial L}{\partial A} W^\top"
    )


def test_each_step_is_what_sympy_computes(report: ProofReport) -> None:
    st = SYMBOLS
    G, z, w, b = st.G, st.input, st.w, st.b
    i, r, j, p, q, s = st.i, st.r, st.j, st.p, st.q, st.s
    forward = sympy.Sum(z[p, s] * w[s, q], (s, 1, st.k)) + b[q]
    expected_partials = {"Z": z[i, r], "W": w[r, j], "b": b[j]}
    expected_results = {
        "Z": sympy.Sum(G[i, q] * w[r, q], (q, 1, st.n)),
        "W": sympy.Sum(z[p, r] * G[p, j], (p, 1, st.m)),
        "b": sympy.Sum(G[p, j], (p, 1, st.m)),
    }
    for proof in report.proofs:
        steps = proof.steps
        assert steps[0].expr == forward
        # The local partial is SymPy's own derivative of the forward pass, not a hand-written one.
        assert steps[1].expr == sympy.diff(forward, expected_partials[proof.variable])
        assert steps[1].expr.has(sympy.KroneckerDelta)
        assert steps[2].expr == sympy.Sum(G[p, q] * steps[1].expr, (q, 1, st.n), (p, 1, st.m))
        collapsed = steps[-2].expr
        assert not collapsed.has(sympy.KroneckerDelta, sympy.Piecewise)
        assert sympy.simplify(collapsed - expected_results[proof.variable]) == 0
        # One line per sum a delta collapses: three sums (p, q, s) down to one.
        collapses = [step for step in _written(proof).steps if "sum over" in step.label]
        assert len(collapses) == (2 if proof.variable != "b" else 1)


def test_range_conditions_are_named_where_they_are_used(report: ProofReport) -> None:
    steps = _written(_proof(report, "Z")).steps
    assert "under the condition r ≤ k, which holds because 1 ≤ r ≤ k" in steps[3].description
    assert "under the condition i ≤ m, which holds because 1 ≤ i ≤ m" in steps[4].description


def test_the_bias_is_shown_to_leave_dz_and_dw_unchanged(report: ProofReport) -> None:
    for variable in ("Z", "W"):
        description = _written(_proof(report, variable)).steps[1].description
        assert "= 0, so the bias leaves this gradient unchanged" in description


def test_a_proof_takes_well_under_the_cap() -> None:
    # Not a benchmark: a generous bound that catches a runaway simplification.
    started = time.monotonic()
    prove_identity("Z")
    assert time.monotonic() - started < 5 * STEP_SECONDS


# --- independent routes -------------------------------------------------------------------------


def _instantiate(expr: Any, sizes: tuple[int, int, int], point: dict[Any, int]) -> Any:
    """The index expression at explicit sizes and indices, the sums written out, with the names
    matgrad derive uses for its symbols (dA_p_q, z_i_r, w_r_j, b_j)."""
    st = SYMBOLS
    values = {st.m: sizes[0], st.k: sizes[1], st.n: sizes[2], **point}
    explicit = expr.subs(values).doit()
    names = {st.G: "dA", st.input: "z", st.w: "w", st.b: "b"}

    def rename(node: Any) -> Any:
        indices = "_".join(str(int(index)) for index in node.indices)
        return sympy.Symbol(f"{names[node.base]}_{indices}")

    return sympy.expand(explicit.replace(lambda node: isinstance(node, sympy.Indexed), rename))


def _entries(variable: Variable, sizes: tuple[int, int, int]) -> Iterator[dict[Any, int]]:
    st = SYMBOLS
    m, k, n = sizes
    if variable == "Z":
        yield from ({st.i: i, st.r: r} for i in range(1, m + 1) for r in range(1, k + 1))
    elif variable == "W":
        yield from ({st.r: r, st.j: j} for r in range(1, k + 1) for j in range(1, n + 1))
    else:
        yield from ({st.j: j} for j in range(1, n + 1))


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_the_proved_entries_agree_with_derive_at_every_size_up_to_3(
    bias: bool, report: ProofReport, report_without_bias: ProofReport
) -> None:
    proofs = (report if bias else report_without_bias).proofs
    for sizes in SIZES:
        derivation = derive(*sizes, bias=bias)
        layer = derivation.biased if bias else derivation.plain
        assert layer is not None
        for proof in proofs:
            gradient = layer.gradients[proof.variable]
            for point in _entries(proof.variable, sizes):
                row, col = (1, *point.values()) if proof.variable == "b" else point.values()
                rule = gradient.entries[row - 1][col - 1]
                from_derive = sympy.expand(
                    sum(
                        sympy.Symbol(f"dA_{p}_{q}") * sympy.sympify(factor)
                        for (p, q), factor in rule.terms
                    )
                )
                from_proof = _instantiate(proof.steps[-2].expr, sizes, point)
                assert from_proof == from_derive, (proof.variable, sizes, point)


def test_the_proved_dz_matches_finite_differences_of_a_nonlinear_loss(
    report: ProofReport,
) -> None:
    """L = Σ c_{p,q} a_{p,q} + ½ Σ a_{p,q}²; G = c + A. Central differences of L in each entry
    against the proved index forms, evaluated at the same numbers."""
    m, k, n = 2, 3, 4
    rng = random.Random(7)
    Z = [[rng.uniform(-1, 1) for _ in range(k)] for _ in range(m)]
    W = [[rng.uniform(-1, 1) for _ in range(n)] for _ in range(k)]
    b = [rng.uniform(-1, 1) for _ in range(n)]
    c = [[rng.uniform(-1, 1) for _ in range(n)] for _ in range(m)]

    def forward(Z: list[list[float]], W: list[list[float]], b: list[float]) -> list[list[float]]:
        return [
            [sum(Z[p][s] * W[s][q] for s in range(k)) + b[q] for q in range(n)] for p in range(m)
        ]

    def loss(Z: list[list[float]], W: list[list[float]], b: list[float]) -> float:
        A = forward(Z, W, b)
        return sum(c[p][q] * A[p][q] + A[p][q] ** 2 / 2 for p in range(m) for q in range(n))

    A = forward(Z, W, b)
    G = [[c[p][q] + A[p][q] for q in range(n)] for p in range(m)]
    values: dict[Any, float] = {}
    for p in range(m):
        for q in range(n):
            values[sympy.Symbol(f"dA_{p + 1}_{q + 1}")] = G[p][q]
        for s in range(k):
            values[sympy.Symbol(f"z_{p + 1}_{s + 1}")] = Z[p][s]
    for s in range(k):
        for q in range(n):
            values[sympy.Symbol(f"w_{s + 1}_{q + 1}")] = W[s][q]
    h = 1e-6
    for proof in report.proofs:
        for point in _entries(proof.variable, (m, k, n)):
            where = list(point.values())
            claimed = float(_instantiate(proof.steps[-2].expr, (m, k, n), point).subs(values))
            target = {"Z": Z, "W": W}.get(proof.variable)
            if target is None:
                up, down = list(b), list(b)
                up[where[0] - 1] += h
                down[where[0] - 1] -= h
                numeric = (loss(Z, W, up) - loss(Z, W, down)) / (2 * h)
            else:
                original = target[where[0] - 1][where[1] - 1]
                target[where[0] - 1][where[1] - 1] = original + h
                above = loss(Z, W, b)
                target[where[0] - 1][where[1] - 1] = original - h
                below = loss(Z, W, b)
                target[where[0] - 1][where[1] - 1] = original
                numeric = (above - below) / (2 * h)
            assert claimed == pytest.approx(numeric, abs=1e-6), (proof.variable, point)


# --- wrong forms and failing steps are never called proved --------------------------------------

WRONG_CLAIMS = [
    pytest.param(
        _wrong(
            "Z",
            "sum_q dL/da_{q,i} w_{r,q}",
            lambda st: sympy.Sum(st.G[st.q, st.i] * st.w[st.r, st.q], (st.q, 1, st.n)),
        ),
        "the claim is false",
        id="dZ-index-form-with-swapped-upstream-indices",
    ),
    pytest.param(
        _wrong("Z", "G W", lambda st: st.G_matrix * st.W_matrix),
        "is m × n, but ∂L/∂Z has the shape of Z, m × k",
        id="dZ-as-G-times-W",
    ),
    pytest.param(
        _wrong("W", "Z G^T... transposed", lambda st: (st.input_matrix.T * st.G_matrix).T),
        "is n × k, but ∂L/∂W has the shape of W, k × n",
        id="dW-transposed",
    ),
    pytest.param(
        _wrong(
            "W",
            "sum_p z_{p,j} dL/da_{p,r}",
            lambda st: sympy.Sum(st.input[st.p, st.j] * st.G[st.p, st.r], (st.p, 1, st.m)),
        ),
        "the claim is false",
        id="dW-index-form-with-transposed-indices",
    ),
    pytest.param(
        _wrong("b", "1^T G with an extra w", lambda st: st.ones.T * st.G_matrix * st.W_matrix.T),
        "is 1 × k, but ∂L/∂b",
        id="db-wrong-shape",
    ),
    pytest.param(
        _wrong("b", "row sums", lambda st: sympy.Sum(st.G[st.j, st.q], (st.q, 1, st.n))),
        "the claim is false",
        id="db-as-row-sums",
    ),
]


@pytest.mark.parametrize(("claim", "reason"), WRONG_CLAIMS)
def test_a_wrong_form_is_reported_as_not_proved(claim: Claim, reason: str) -> None:
    proof = prove_identity(claim.variable, claim=claim)
    assert not proof.proved
    assert reason in _written(proof).reason
    assert not proof.steps[-1].proved
    assert _written(proof).steps[-1].relation == r"\overset{?}{=}"
    # The derivation up to the comparison is still SymPy's, and still right.
    assert all(step.proved for step in proof.steps[:-1])


def test_a_wrong_form_is_never_boxed_and_exits_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = WRONG_CLAIMS[0].values[0]
    assert isinstance(wrong, Claim)
    report = prove(claims={"Z": wrong})
    assert not report.proved
    assert [proof.proved for proof in report.proofs] == [False, True, True]
    latex = latex_text(proof_document(report))
    assert r"\boxed{\frac{\partial L}{\partial Z}" not in latex
    assert r"\boxed{\frac{\partial L}{\partial W}" in latex
    assert "NOT proved: the claim is false" in latex
    text = render(report, "text")
    assert "✗ NOT proved: the claim is false" in text
    assert "✓ Proved for every m, k, n: ∂L/∂Z" not in text
    assert proof_data(report)["proved"] is False
    # The command's one call into the library, made with the wrong claim as its parameter.
    monkeypatch.setattr(proof_module, "prove", partial(prove, claims={"Z": wrong}))
    code, out, err = run(["prove"], capsys)
    assert code == 1
    assert r"\boxed{\frac{\partial L}{\partial Z}" not in out
    assert err.startswith("matgrad: NOT proved: ∂L/∂Z = sum_q dL/da_{q,i} w_{r,q} (the claim")


def test_a_step_sympy_raises_on_is_not_proved(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(expr: Any, variable: Any) -> Any:
        raise RuntimeError("no delta summation today")

    proof = prove_identity("Z", cas=CASSteps(sum_out=broken))
    assert not proof.proved
    assert _written(proof).reason == (
        "the sum over s could not be carried out (RuntimeError: no delta summation today)"
    )
    assert [step.proved for step in proof.steps] == [True, True, True, False]
    assert proof.steps[-1].expr is None


def test_a_sum_sympy_leaves_undone_is_not_proved() -> None:
    proof = prove_identity("W", cas=CASSteps(sum_out=lambda expr, variable: expr))
    assert not proof.proved
    assert _written(proof).reason == "the sum over s remains: δ_{r,s} did not collapse it"


def test_a_condition_outside_the_index_ranges_is_not_discharged() -> None:
    proof = prove_identity("Z", cas=CASSteps(range_facts=lambda target: set()))
    assert not proof.proved
    assert _written(proof).reason == (
        "the sum over s holds only under a condition that the index ranges do not settle: r ≤ k"
    )
    assert proof.steps[-1].expr.has(sympy.Piecewise)


def test_a_step_over_its_time_limit_is_not_proved() -> None:
    def slow(output: Any, entry: Any) -> Any:
        time.sleep(2)
        return sympy.diff(output, entry)

    proof = prove_identity("b", step_seconds=0.2, cas=CASSteps(local_partial=slow))
    assert not proof.proved
    assert _written(proof).reason == (
        "the derivative ∂a_{p,q}/∂b_j could not be computed within the time allowed (0.2 s)"
    )


def test_a_difference_sympy_cannot_cancel_is_not_proved() -> None:
    uncancelled = CASSteps(difference=lambda left, right: left - right + SYMBOLS.m)
    proof = prove_identity("b", cas=uncancelled)
    assert not proof.proved
    # The two sides are in fact equal, so no counterexample exists: the proof just did not show it.
    assert _written(proof).reason == (
        "the difference of the two sides does not simplify to 0, and no entry was found where "
        "they differ, so it is neither shown nor refuted that ∂L/∂b equals 1ᵀ · ∂L/∂A"
    )


def test_a_failed_step_is_rendered_as_not_proved_in_every_format() -> None:
    report = prove(cas=CASSteps(sum_out=lambda expr, variable: expr))
    assert not report.proved
    latex = render(report, "latex")
    assert r"\boxed" not in latex
    assert r"\overset{?}{=}" in latex
    # Each identity: the step's own note and the verdict.
    assert latex.count(r"NOT proved: the sum over $s$ remains: $\delta_{r,s}$ did not") == 4
    assert latex.count(r"NOT proved: the sum over $q$ remains: $\delta_{j,q}$ did not") == 2
    # A sum that remains is not said to be carried out.
    assert latex.count(r"(4) In the sum over $s$, $\delta_{r,s}$ keeps only the term") == 2
    assert "carried out: $\\delta_{r,s}$" not in latex
    assert "None of the identities is established by this document" in latex
    markdown = render(report, "markdown")
    assert "This proof holds for every" not in markdown
    assert "None of the identities is established by this document" in markdown
    data = json.loads(render(report, "json"))
    assert data["proved"] is False
    assert all(identity["proved"] is False for identity in data["identities"])
    text = render(report, "text")
    assert "✓" not in text
    assert text.count("✗ NOT proved") == 6  # one verdict and one table row per identity


def _slow_partial(output: Any, entry: Any) -> Any:
    time.sleep(1)
    return sympy.diff(output, entry)


def _raising_sum(expr: Any, variable: Any) -> Any:
    raise RuntimeError("no delta summation today")


#: One identity broken in each way a step can fail, with the reason its document must give.
FAILED_PROOFS = [
    pytest.param(
        "Z",
        {"cas": CASSteps(sum_out=_raising_sum)},
        "the sum over s could not be carried out (RuntimeError: no delta summation today)",
        id="raises",
    ),
    pytest.param(
        "b",
        {"cas": CASSteps(local_partial=_slow_partial), "step_seconds": 0.2},
        "the derivative ∂a_{p,q}/∂b_j could not be computed within the time allowed (0.2 s)",
        id="times-out",
    ),
    pytest.param(
        "W",
        {"cas": CASSteps(range_facts=lambda target: set())},
        "a condition that the index ranges do not settle: r ≤ k",
        id="condition-left",
    ),
    pytest.param(
        "b",
        {"cas": CASSteps(difference=lambda left, right: left - right + SYMBOLS.m)},
        "no entry was found where they differ",
        id="no-cancel",
    ),
    pytest.param(
        "Z",
        {"claim": _wrong("Z", "G W", lambda st: st.G_matrix * st.W_matrix)},
        "but ∂L/∂Z has the shape of Z, m × k",
        id="wrong-shape",
    ),
]


@pytest.mark.parametrize(("variable", "breaks", "reason"), FAILED_PROOFS)
def test_a_failed_step_says_why_in_mathematical_terms(
    variable: Variable, breaks: dict[str, Any], reason: str
) -> None:
    """Every format gives the reason of the failed step; no software is named outside the one
    closing line, which says that the line marked with ?= is one matgrad could not verify."""
    from .test_handout import forbidden_words

    proof = prove_identity(variable, **breaks)
    assert not proof.proved
    written = _written(proof)
    assert reason in written.reason
    failed = ProofReport(bias=True, proofs=(proof,))
    for fmt in ("latex", "markdown", "text"):
        out = render(failed, fmt)
        given = written.reason if fmt == "text" else written.reason_latex
        assert given in " ".join(out.split()), fmt
        paragraphs = [" ".join(block.split()) for block in out.split("\n\n")]
        closing = [block for block in paragraphs if PROVENANCE in block]
        assert len(closing) == 1, fmt
        assert "is one it could not verify" in closing[0]
        body = [block for block in paragraphs if PROVENANCE not in block]
        assert forbidden_words("\n".join(body)) == [], fmt
    # JSON: its prose, the string values (its keys name fields for programs, such as "sympy").
    identity = json.loads(render(failed, "json"))["identities"][0]
    assert identity["reason"] == written.reason
    prose = [identity["reason"], *(step["description"] for step in identity["steps"])]
    assert forbidden_words("\n".join(prose)) == []


def test_the_closing_line_of_a_proved_document_says_how_it_was_verified(
    report: ProofReport,
) -> None:
    for fmt in ("latex", "markdown", "text"):
        paragraphs = [" ".join(block.split()) for block in render(report, fmt).split("\n\n")]
        closing = [block for block in paragraphs if PROVENANCE in block]
        assert len(closing) == 1
        assert "in exact symbolic arithmetic (SymPy), with the sizes kept as symbols" in closing[0]
        assert "could not verify" not in closing[0]
        assert closing[0] == paragraphs[-1].removesuffix(r" \end{document}")


# --- documents ----------------------------------------------------------------------------------


def test_golden_documents(report: ProofReport, report_without_bias: ProofReport) -> None:
    document = proof_document(report)
    assert_golden(latex_text(document), "prove/proof.tex")
    assert_golden(latex_text(document, standalone=True), "prove/proof-standalone.tex")
    assert_golden(markdown_text(document), "prove/proof.md")
    assert_golden(render(report, "json"), "prove/proof.json")
    assert_golden(render(report, "text", width=80), "prove/proof.txt")
    assert_golden(render(report_without_bias, "text", width=80), "prove/proof-no-bias.txt")


def test_the_document_says_what_the_proof_is(report: ProofReport) -> None:
    latex = latex_text(proof_document(report))
    assert "This is the size-independent proof that the explicit-size derivation illustrates" in (
        latex
    )
    assert "This proof holds for every $m$, $k$, $n$" in latex
    assert "denominator layout" in latex
    for proof in report.proofs:
        assert f"\\boxed{{{_written(proof).statement_latex}}}" in latex
    assert latex.count(r"\begin{align*}") == 4  # the statement and one derivation per identity


def test_the_text_view_fits_80_columns(report: ProofReport) -> None:
    from rich.cells import cell_len

    for line in render(report, "text", width=80).splitlines():
        assert cell_len(line) <= 80, line


def test_json_lists_every_step_with_latex_and_sympy(report: ProofReport) -> None:
    data = proof_data(report)
    assert data["kind"] == "proof"
    assert data["proved"] is True
    assert [identity["identity"] for identity in data["identities"]] == [
        "∂L/∂Z = ∂L/∂A · Wᵀ",
        "∂L/∂W = Zᵀ · ∂L/∂A",
        "∂L/∂b = 1ᵀ · ∂L/∂A",
    ]
    steps = data["identities"][0]["steps"]
    assert steps[1]["sympy"] == (
        "Sum(KroneckerDelta(i, p)*KroneckerDelta(r, s)*w[s, q], (s, 1, k))"
    )
    assert steps[4]["sympy"] == "Sum(G[i, q]*w[r, q], (q, 1, n))"
    assert all({"description", "latex", "sympy", "proved"} <= step.keys() for step in steps)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_the_standalone_proof_compiles_with_pdflatex(bias: bool, tmp_path: Path) -> None:
    latex = render(prove(bias=bias), "latex", standalone=True)
    result = run_pdflatex(latex, tmp_path, "proof")
    assert result.returncode == 0, result.stdout[-3000:]
    log = (tmp_path / "proof.log").read_text(encoding="latin-1")
    assert "Overfull \\hbox" not in log, "a line runs into the margin"
    assert "Undefined control sequence" not in log


def test_a_not_proved_document_compiles_too(tmp_path: Path) -> None:
    report = prove(claims={"Z": _wrong("Z", "G W", lambda st: st.G_matrix * st.W_matrix)})
    result = run_pdflatex(render(report, "latex", standalone=True), tmp_path, "proof")
    assert result.returncode == 0, result.stdout[-3000:]


# --- the command --------------------------------------------------------------------------------


def test_prove_prints_latex_and_a_one_line_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["prove"], capsys)
    assert code == 0
    assert out == render(prove(), "latex")
    assert err == (
        "matgrad: proved for every m, k, n: ∂L/∂Z = ∂L/∂A · Wᵀ; ∂L/∂W = Zᵀ · ∂L/∂A; "
        "∂L/∂b = 1ᵀ · ∂L/∂A\n"
    )


@pytest.mark.parametrize("output_format", ["latex", "markdown", "json", "text"])
def test_prove_in_each_format_is_byte_identical_across_runs(
    output_format: str, capsys: pytest.CaptureFixture[str]
) -> None:
    first = run(["prove", "--format", output_format, "--no-bias"], capsys)
    second = run(["prove", "--format", output_format, "--no-bias"], capsys)
    assert first[0] == 0
    assert first[1] == second[1]
    assert first[1] == render(prove(bias=False), output_format)


def test_prove_writes_a_standalone_file_and_refuses_to_clobber_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "proof.tex"
    code, out, _ = run(["prove", "--standalone", "-o", str(target)], capsys)
    assert code == 0
    assert out == ""
    written = target.read_text(encoding="utf-8")
    assert written.startswith("\\documentclass")
    code, _, err = run(["prove", "-f", "markdown", "-o", str(target)], capsys)
    assert code == 2
    assert err == f"matgrad: error: {target} already exists; use --force to replace it\n"
    assert target.read_text(encoding="utf-8") == written
    code, _, _ = run(["prove", "-f", "markdown", "-o", str(target), "--force"], capsys)
    assert code == 0
    assert target.read_text(encoding="utf-8").startswith("# A proof for every size")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "text", "--standalone"], "--standalone applies to --format latex only"),
        (["--format", "pdf"], "'pdf' is not one of"),
        (["--m", "3"], "No such option: --m"),
        (["-o", "/nonexistent/folder/proof.tex"], "the folder /nonexistent/folder does not exist"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["prove", *args], capsys)
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith("matgrad: error: ")
    assert message in err


def test_a_failing_cas_step_makes_the_command_exit_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(output: Any, entry: Any) -> Any:
        raise ValueError("cannot differentiate")

    # The command's one call into the library, made with the broken step as its parameter.
    monkeypatch.setattr(proof_module, "prove", partial(prove, cas=CASSteps(local_partial=broken)))
    code, out, err = run(["prove", "--format", "text"], capsys)
    assert code == 1
    assert (
        "✗ NOT proved: the derivative ∂a_{p,q}/∂z_{i,r} could not be computed (ValueError: "
        "cannot differentiate)" in " ".join(out.split())
    )
    assert "✓" not in out
    code, out, err = run(["prove", "--format", "json"], capsys)
    assert code == 1
    assert json.loads(out)["proved"] is False
    assert err.startswith("matgrad: NOT proved: ∂L/∂Z = ∂L/∂A · Wᵀ; ∂L/∂W = Zᵀ · ∂L/∂A;")


def test_prove_runs_as_the_installed_command(tmp_path: Path) -> None:
    executable = Path(sys.executable).parent / "matgrad"
    command = [str(executable)] if executable.exists() else [sys.executable, "-m", "matgrad_cli"]
    result = subprocess.run(
        [*command, "prove", "--format", "markdown"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == render(prove(), "markdown")
    assert result.stderr.startswith("matgrad: proved for every m, k, n")


def test_the_standard_claims_are_the_spec_identities() -> None:
    assert {variable: claim.text for variable, claim in STANDARD_CLAIMS["rows"].items()} == {
        "Z": "∂L/∂A · Wᵀ",
        "W": "Zᵀ · ∂L/∂A",
        "b": "1ᵀ · ∂L/∂A",
    }
