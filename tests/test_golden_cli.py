"""Every document matgrad prints, pinned byte for byte through the command line.

These golden files are the contract of a refactoring: whatever the package's inside looks like,
the same arguments print the same bytes on stdout and stderr and exit with the same code. The
files live in tests/golden/cli/; `MATGRAD_UPDATE_GOLDEN=1` rewrites them after an intended change.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import assert_golden, run_cli

_FORMATS = ("latex", "text", "markdown", "json")

#: name → arguments. Each case pins stdout, and the exit code with stderr.
CASES: dict[str, list[str]] = {
    # derive: the default layer, sizes around the index-collision and elision thresholds, losses
    **{f"derive-2x2x2-{f}": ["derive", "-f", f] for f in _FORMATS},
    "derive-2x2x2-standalone": ["derive", "--standalone"],
    **{f"derive-3x2x4-no-bias-{f}":
       ["derive", "-m", "3", "-k", "2", "-n", "4", "--no-bias", "-f", f] for f in _FORMATS},
    **{f"derive-11x1x2-{f}": ["derive", "-m", "11", "-k", "1", "-n", "2", "-f", f]
       for f in ("latex", "text")},
    **{f"derive-12x12x12-{f}": ["derive", "-m", "12", "-k", "12", "-n", "12", "-f", f]
       for f in ("latex", "text", "markdown")},
    "derive-5x5x5-full-text": ["derive", "-m", "5", "-k", "5", "-n", "5", "--full", "-f", "text"],
    **{f"derive-{loss}-{f}": ["derive", "--loss", loss, "-f", f]
       for loss in ("sum", "squared-error", "softmax-cross-entropy") for f in _FORMATS},
    "derive-softmax-3x2x3-standalone": [
        "derive", "-m", "3", "-k", "2", "-n", "3", "--loss", "softmax-cross-entropy",
        "--standalone",
    ],
    "derive-sympy-engine-text": ["derive", "--engine", "sympy", "-f", "text"],
    # derive for a network: two relu layers in every document format, one layer with a sigmoid,
    # three tanh layers, and a leaky relu without bias at a size where matrices are elided
    **{f"derive-network-relu-{f}": ["derive", "--hidden", "2", "--activation", "relu", "-f", f]
       for f in ("latex", "markdown", "html", "beamer", "text", "json")},
    "derive-network-relu-standalone": [
        "derive", "--hidden", "2", "--activation", "relu", "--standalone",
    ],
    "derive-network-sigmoid-output-latex": ["derive", "--output-activation", "sigmoid"],
    "derive-network-tanh-3-layers-latex": [
        "derive", "-m", "1", "--hidden", "2,2", "--activation", "tanh",
    ],
    "derive-network-leaky-no-bias-7x3x2-latex": [
        "derive", "-m", "7", "-k", "3", "-n", "2", "--hidden", "7", "--activation", "leaky-relu",
        "--slope", "0.05", "--no-bias",
    ],
    # the terminal view and JSON: one layer with a sigmoid, elided lists, a concrete loss
    "derive-network-sigmoid-output-text": [
        "derive", "--output-activation", "sigmoid", "-f", "text",
    ],
    "derive-network-leaky-no-bias-7x3x2-text": [
        "derive", "-m", "7", "-k", "3", "-n", "2", "--hidden", "7", "--activation", "leaky-relu",
        "--slope", "0.05", "--no-bias", "-f", "text",
    ],
    **{f"derive-network-squared-error-{f}": ["derive", "--hidden", "2", "--activation", "tanh",
                                             "--loss", "squared-error", "-f", f]
       for f in ("text", "json")},
    # the numeric check of a network: asked for (exact figures, so the bytes are the same on
    # every machine), above the symbolic limit by itself, and beyond both limits
    **{f"numeric-network-relu-4x3x2-{f}": ["derive", "--hidden", "3", "--activation", "relu",
                                           "-m", "4", "-k", "3", "-n", "2", "--numeric", "-f", f]
       for f in _FORMATS},
    "numeric-network-generic-two-hidden-text": [
        "derive", "--hidden", "3,2", "--numeric", "--seed", "4", "-f", "text",
    ],
    "numeric-network-automatic-64-text": [
        "derive", "--hidden", "64", "--activation", "leaky-relu", "-m", "64", "-k", "64",
        "-n", "64", "-f", "text",
    ],
    "numeric-network-above-both-limits": ["derive", "--hidden", "2000", "--activation", "relu"],
    # derive with samples as columns (A = WX + b1ᵀ), at a size where a transposed slip shows
    **{f"derive-columns-2x3x4-{f}": ["derive", "-m", "2", "-k", "3", "-n", "4", "--samples",
                                     "columns", "-f", f]
       for f in (*_FORMATS, "html", "beamer")},
    "derive-columns-2x3x4-standalone": [
        "derive", "-m", "2", "-k", "3", "-n", "4", "--samples", "columns", "--standalone",
    ],
    **{f"derive-columns-3x2x4-no-bias-{f}": ["derive", "-m", "3", "-k", "2", "-n", "4",
                                             "--no-bias", "--samples", "columns", "-f", f]
       for f in (*_FORMATS, "html", "beamer")},
    "derive-columns-3x2x4-no-bias-standalone": [
        "derive", "-m", "3", "-k", "2", "-n", "4", "--no-bias", "--samples", "columns",
        "--standalone",
    ],
    **{f"derive-columns-softmax-3x2x3-{f}": ["derive", "-m", "3", "-k", "2", "-n", "3", "--loss",
                                             "softmax-cross-entropy", "--samples", "columns",
                                             "-f", f] for f in ("text", "latex", "json")},
    "derive-columns-12x12x12-text": [
        "derive", "-m", "12", "-k", "12", "-n", "12", "--samples", "columns", "-f", "text",
    ],
    "derive-columns-brief-sections-text": [
        "derive", "--samples", "columns", "--brief", "--sections", "X,b,summary", "-f", "text",
    ],
    # the numeric check, asked for and automatic
    **{f"numeric-4x3x5-{f}": ["derive", "-m", "4", "-k", "3", "-n", "5", "--numeric", "-f", f]
       for f in _FORMATS},
    "numeric-4x3x5-standalone": [
        "derive", "-m", "4", "-k", "3", "-n", "5", "--numeric", "--standalone", "--seed", "9",
    ],
    "numeric-automatic-200x3x2-text": ["derive", "-m", "200", "-k", "3", "-n", "2", "-f", "text"],
    # the numeric check of the concrete losses: exact, and to within a computed bound
    "numeric-sum-4x3x5-text": [
        "derive", "-m", "4", "-k", "3", "-n", "5", "--numeric", "--loss", "sum", "-f", "text",
    ],
    **{f"numeric-{loss}-4x3x5-{f}":
       ["derive", "-m", "4", "-k", "3", "-n", "5", "--numeric", "--loss", loss, "-f", f]
       for loss in ("squared-error", "softmax-cross-entropy") for f in _FORMATS},
    "numeric-softmax-cross-entropy-4x3x5-standalone": [
        "derive", "-m", "4", "-k", "3", "-n", "5", "--numeric", "--loss", "softmax-cross-entropy",
        "--standalone", "--seed", "9",
    ],
    "numeric-automatic-softmax-200x200x200-text": [
        "derive", "-m", "200", "-k", "200", "-n", "200", "--loss", "softmax-cross-entropy",
        "-f", "text",
    ],
    # the numeric check with samples as columns (A = WX + b1ᵀ), asked for and automatic
    **{f"numeric-columns-4x3x5-{f}": ["derive", "-m", "4", "-k", "3", "-n", "5", "--numeric",
                                      "--samples", "columns", "-f", f] for f in _FORMATS},
    **{f"numeric-columns-{loss}-4x3x5-{f}":
       ["derive", "-m", "4", "-k", "3", "-n", "5", "--numeric", "--loss", loss, "--samples",
        "columns", "-f", f]
       for loss in ("squared-error", "softmax-cross-entropy") for f in ("text", "json")},
    "numeric-columns-automatic-100x100x100-text": [
        "derive", "-m", "100", "-k", "100", "-n", "100", "--samples", "columns", "-f", "text",
    ],
    # check: right, wrong shape, wrong values, several claims, losses, fixed sizes, bad input
    **{f"check-correct-{f}": ["check", "dW = Z.T @ G", "-f", f] for f in _FORMATS},
    **{f"check-wrong-shape-{f}": ["check", "dW = G @ Z.T", "-f", f] for f in _FORMATS},
    **{f"check-wrong-values-{f}": ["check", "dW = (G.T @ Z).T.T", "-f", f] for f in _FORMATS},
    **{f"check-several-{f}": ["check", "dZ = G @ W.T", "db = sum(G, axis=0)", "dW = G.T @ Z",
                              "-f", f] for f in _FORMATS},
    "check-standalone": ["check", "dZ = G @ W.T", "dW = Z @ G", "--standalone", "-f", "latex"],
    "check-sizes-text": ["check", "dZ = G @ W", "-m", "3", "-k", "3", "-n", "2"],
    **{f"check-softmax-{f}": ["check", "--loss", "softmax-cross-entropy", "dW = Z.T @ G",
                              "dZ = (G - Y) @ W.T", "-f", f] for f in _FORMATS},
    "check-squared-error-text": ["check", "--loss", "squared-error", "dW = Z.T @ (G + Y)"],
    # a columns course: right answers, one in the other naming, a numerator-layout answer
    **{f"check-columns-{f}": ["check", "--samples", "columns", "dX = W.T @ G", "db = np.sum(G, 1)",
                              "dW = G.T @ X", "dW = X @ G.T", "dZ = G @ W.T", "-f", f]
       for f in (*_FORMATS, "html", "gradescope")},
    # a network: a right answer, a forgotten σ′ (the slip's hint) and a shape error
    **{f"check-network-{f}": ["check", "--hidden", "3", "--activation", "relu",
                              "dW1 = X.T @ ((G @ W2.T) * relu'(A1))", "dW1 = X.T @ (G @ W2.T)",
                              "dW2 = H1 @ G", "-f", f]
       for f in (*_FORMATS, "html", "gradescope")},
    "check-mixed-naming": ["check", "dX = G @ Z.T"],
    "check-parse-error": ["check", "dW = Z.T @@ G"],
    "check-unknown-name": ["check", "dW = Q @ G"],
    # prove and jacobian
    **{f"prove-{f}": ["prove", "-f", f] for f in _FORMATS},
    "prove-standalone": ["prove", "--standalone"],
    "prove-no-bias-latex": ["prove", "--no-bias"],
    **{f"jacobian-2x2x2-{f}": ["jacobian", "-f", f] for f in _FORMATS},
    **{f"jacobian-denominator-{f}": ["jacobian", "--layout", "denominator", "-f", f]
       for f in _FORMATS},
    "jacobian-standalone": ["jacobian", "--standalone"],
    **{f"jacobian-3x2x4-{f}": ["jacobian", "-m", "3", "-k", "2", "-n", "4", "-f", f]
       for f in ("latex", "text")},
    # prove and jacobian with samples as columns (A = WX + b1ᵀ), the Jacobians at a size where a
    # transposed or swapped Kronecker factor shows
    **{f"prove-columns-{f}": ["prove", "--samples", "columns", "-f", f]
       for f in (*_FORMATS, "html", "beamer")},
    "prove-columns-standalone": ["prove", "--samples", "columns", "--standalone"],
    **{f"prove-columns-no-bias-{f}": ["prove", "--samples", "columns", "--no-bias", "-f", f]
       for f in ("latex", "text")},
    **{f"jacobian-columns-2x3x4-{f}": ["jacobian", "-m", "2", "-k", "3", "-n", "4", "--samples",
                                       "columns", "-f", f]
       for f in (*_FORMATS, "html", "beamer")},
    **{f"jacobian-columns-denominator-2x3x4-{f}": ["jacobian", "-m", "2", "-k", "3", "-n", "4",
                                                   "--samples", "columns", "--layout",
                                                   "denominator", "-f", f]
       for f in _FORMATS},
    "jacobian-columns-2x3x4-standalone": [
        "jacobian", "-m", "2", "-k", "3", "-n", "4", "--samples", "columns", "--standalone",
    ],
    "jacobian-columns-3x2x1-text": [
        "jacobian", "-m", "3", "-k", "2", "-n", "1", "--samples", "columns", "-f", "text",
    ],
    # prove and jacobian for a network: the recursion for every size, each layer's Jacobians
    **{f"prove-network-sigmoid-{f}": ["prove", "--hidden", "2", "--activation", "sigmoid",
                                      "-f", f] for f in _FORMATS},
    "prove-network-relu-output-tanh-text": [
        "prove", "--hidden", "3", "--activation", "relu", "--output-activation", "tanh", "-f",
        "text",
    ],
    **{f"jacobian-network-relu-{f}": ["jacobian", "--hidden", "2", "--activation", "relu",
                                      "-k", "3", "-f", f] for f in _FORMATS},
    "jacobian-network-sigmoid-denominator-text": [
        "jacobian", "--hidden", "2", "--activation", "sigmoid", "--layout", "denominator", "-f",
        "text",
    ],
    "jacobian-network-too-large": ["jacobian", "--hidden", "20", "-m", "20", "-k", "20", "-n",
                                   "20"],
    # a web page and slides: derive at two sizes and losses, one page of every other kind
    **{f"derive-2x2x2-{f}": ["derive", "-f", f] for f in ("html", "beamer")},
    **{f"derive-3x2x4-softmax-{f}": ["derive", "-m", "3", "-k", "2", "-n", "4", "--loss",
                                     "softmax-cross-entropy", "-f", f] for f in ("html", "beamer")},
    "check-wrong-shape-html": ["check", "dW = G @ Z.T", "-f", "html"],
    "numeric-4x3x5-html": ["derive", "-m", "4", "-k", "3", "-n", "5", "--numeric", "-f", "html"],
    "numeric-columns-4x3x5-html": [
        "derive", "-m", "4", "-k", "3", "-n", "5", "--numeric", "--samples", "columns",
        "-f", "html",
    ],
    "prove-html": ["prove", "-f", "html"],
    "jacobian-2x2x2-html": ["jacobian", "-f", "html"],
    # bad input
    "derive-bad-size": ["derive", "-m", "0"],
    "derive-bad-format": ["derive", "-f", "docx"],
    "derive-bad-samples": ["derive", "--samples", "diagonal"],
    "prove-bad-samples": ["prove", "--samples", "diagonal"],
    "jacobian-bad-samples": ["jacobian", "--samples", "diagonal"],
    "derive-columns-bad-section": ["derive", "--samples", "columns", "--sections", "Z"],
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_cli_output_is_unchanged(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(CASES[name], capsys)
    assert "Traceback" not in err
    assert_golden(out, f"cli/{name}.out")
    assert_golden(f"exit {code}\n{err}", f"cli/{name}.err")


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("exercise-seed7", ["--seed", "7", "--count", "3"]),
        ("exercise-seed3-bias", ["--seed", "3", "--count", "6", "--bias"]),
        ("exercise-seed7-columns", ["--seed", "7", "--count", "3", "--samples", "columns"]),
        (
            "exercise-seed3-bias-columns",
            ["--seed", "3", "--count", "6", "--bias", "--samples", "columns"],
        ),
        # network sheets: two layers with relu, and one layer with a sigmoid
        (
            "exercise-seed7-network-relu",
            ["--seed", "7", "--count", "4", "--hidden", "3", "--activation", "relu", "--bias"],
        ),
        (
            "exercise-seed7-network-sigmoid",
            ["--seed", "7", "--count", "3", "--output-activation", "sigmoid"],
        ),
    ],
)
def test_exercise_sheets_are_unchanged(
    name: str, args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stem = tmp_path / "sheet"
    code, out, err = run_cli(["exercise", *args, "-o", str(stem)], capsys)
    assert code == 0, err
    assert_golden(out, f"cli/{name}.out")
    assert_golden(err.replace(str(tmp_path), "TMP"), f"cli/{name}.err")
    for part in ("problems", "solutions"):
        text = (tmp_path / f"sheet-{part}.tex").read_text(encoding="utf-8")
        assert_golden(text, f"cli/{name}-{part}.tex")
