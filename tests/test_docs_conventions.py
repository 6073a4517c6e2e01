"""docs/conventions.md: every line of the table of the two conventions is an identity that holds.

The table under "Samples as rows or as columns" is read from the page, and each cell is checked
in its column's convention:

- shapes and entries against matgrad's description of the layer (core/layer.py);
- the forward pass against the one matgrad prints, and one entry, with its index letters, against
  the expanded entries of the derivation at a layer of distinct sizes;
- each gradient with matgrad's own claim checker (``check(..., samples=…)``), which must judge it
  right;
- each vec identity by multiplying out its Kronecker product with SymPy against the product, or
  against SymPy's own derivative of L = Σ G ∘ A, on a layer built here from scratch;
- the numerator-layout line: its transpose is the gradient, and it is judged wrong itself.

Then each kind of check is shown able to fail: one cell at a time is replaced by a wrong formula,
and the table must be reported wrong at that line.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, Literal

import pytest
import sympy

from matgrad_cli import check
from matgrad_cli.core.derive import derive
from matgrad_cli.core.engine import get_engine
from matgrad_cli.core.layer import LAYERS, Role, Samples
from matgrad_cli.present.notation import forward_text

from .docs_harness import DOCS

PAGE = DOCS / "conventions.md"
HEADING = "## Samples as rows or as columns"
CONVENTIONS: tuple[Samples, Samples] = ("rows", "columns")
#: The layer the identities are checked at: distinct sizes, so that a transposed factor shows.
M, K, N = 2, 3, 4

Table = dict[str, tuple[str, str]]


def read_table(text: str) -> Table:
    """The table of the section: the first cell of each line → its rows cell, its columns cell."""
    section = text.split(HEADING, 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    table: Table = {}
    for line in lines[2:]:  # after the header and its rule
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        assert len(cells) == 3, line
        table[cells[0]] = (cells[1], cells[2])
    return table


def _code(cell: str) -> str:
    """The first `code` span of a cell."""
    found = re.search(r"`([^`]+)`", cell)
    assert found is not None, f"no formula in {cell!r}"
    return found.group(1)


# --- Shapes, entries, forward pass ------------------------------------------------------------

_ROLES: dict[str, Role] = {
    "input": "input",
    "weights": "weights",
    "bias": "bias",
    "output": "output",
    "upstream gradient G = ∂L/∂A": "upstream",
}


def _shape_and_entries(label: str, cell: str, samples: Samples) -> str | None:
    """`NAME` is R×C, entries e_{…}: the name, shape letters and entry of the layer's matrix."""
    found = re.fullmatch(r"`(\w)` is (\w)×(\w), entries (\S+?)(?: \((.*)\))?", cell)
    if found is None:
        return f"cannot read {cell!r}"
    name, rows, cols, entry, words = found.groups()
    matrix = LAYERS[samples].role(_ROLES[label])
    written = (
        f"{matrix.entry}_{{{','.join(matrix.indices)}}}"
        if len(matrix.indices) > 1
        else f"{matrix.entry}_{matrix.indices[0]}"
    )
    if (name, rows, cols, entry) != (matrix.name, matrix.rows, matrix.cols, written):
        return f"{cell!r} is not {matrix.name} {matrix.rows}×{matrix.cols}, entries {written}"
    if words is not None and words.startswith("a row") != (matrix.rows == "1"):
        return f"{cell!r}: b is a {'row' if matrix.rows == '1' else 'column'}"
    return None


def _forward(cell: str, samples: Samples) -> str | None:
    """The forward pass as matgrad prints it for the layer with a bias."""
    printed = forward_text(True, "{ones}_{rows} {bias}", LAYERS[samples], "{bias} {ones}_{rows}ᵀ")
    return None if _code(cell) == printed else f"{_code(cell)!r} is not {printed!r}"


_ENTRY = re.compile(r"(\w+)_\{?(\w)(?:,(\w))?\}?")


@functools.cache
def _derived_outputs(samples: Samples) -> tuple[tuple[Any, ...], ...]:
    """The derivation's expanded entries of A = ZW + 1_m b (or WX + b1_mᵀ), as SymPy sums."""
    derivation = derive(M, K, N, samples=samples)
    assert derivation.biased is not None
    to_sympy = get_engine(derivation.engine).to_sympy
    return tuple(
        tuple(sympy.Add(*(to_sympy(term) for term in entry.terms)) for entry in row)
        for row in derivation.biased.outputs
    )


def _symbol(letter: str, indices: tuple[str, ...], values: dict[str, int]) -> Any:
    """The symbol of an entry, named as matgrad names it: x_2_1, w_1_3, b_2."""
    return sympy.Symbol("_".join([letter, *(str(values[index]) for index in indices)]))


def _entry(cell: str, samples: Samples) -> str | None:
    """`a_{P,Q} = Σ_r f_{…} g_{…} + b_J` for every entry of A, against the derivation's."""
    formula = _code(cell)
    found = re.fullmatch(r"a_\{(\w),(\w)\} = Σ_(\w) (\S+) (\S+) \+ (\S+)", formula)
    if found is None:
        return f"cannot read {formula!r}"
    row_index, col_index, summed, *factors = found.groups()
    parsed = []
    for factor in factors:
        match = _ENTRY.fullmatch(factor)
        if match is None:
            return f"cannot read the entry {factor!r}"
        parsed.append((match.group(1), tuple(i for i in match.groups()[1:] if i is not None)))
    outputs = _derived_outputs(samples)
    sizes = {"m": M, "k": K, "n": N}
    if (len(outputs), len(outputs[0])) != tuple(
        sizes[letter]
        for letter in (LAYERS[samples].matrix("A").rows, LAYERS[samples].matrix("A").cols)
    ):
        return "the derivation's A has another shape"
    *products, (bias_letter, bias_indices) = parsed
    for p, row in enumerate(outputs, start=1):
        for q, derived in enumerate(row, start=1):
            values = {row_index: p, col_index: q}
            terms = []
            for s in range(1, K + 1):
                values[summed] = s
                try:
                    terms.append(sympy.Mul(*(_symbol(*factor, values) for factor in products)))
                except KeyError as missing:
                    return f"{formula!r} uses the index {missing} it does not bind"
            written = sympy.Add(*terms) + _symbol(bias_letter, bias_indices, values)
            if sympy.expand(written - derived) != 0:
                return f"{formula!r} at ({p},{q}) is {written}, the layer's is {derived}"
    return None


# --- Gradients, with matgrad's claim checker ------------------------------------------------------


def _claim(cell: str, samples: Samples) -> str | None:
    claim = _code(cell)
    report = check(claim, samples=samples)
    return None if report.correct else f"{claim!r} is judged wrong with samples as {samples}"


def _numerator(cell: str, samples: Samples) -> str | None:
    """`dW_numerator = EXPR`: EXPR transposed is ∂L/∂W, and EXPR itself is not."""
    expression = _code(cell).split("=", 1)[1].strip()
    if not check(f"dW = ({expression}).T", samples=samples).correct:
        return f"the transpose of {expression!r} is not ∂L/∂W with samples as {samples}"
    if check(f"dW = {expression}", samples=samples).correct:
        return f"{expression!r} is ∂L/∂W itself, not its numerator layout"
    return None


# --- vec identities, with SymPy on a layer built here ---------------------------------------------


@functools.cache
def _layer(samples: Samples) -> dict[str, Any]:
    """Z (or X), W, b, G, A without the bias, and the gradients of L = Σ G ∘ (A + bias) by SymPy's
    own differentiation, as SymPy matrices at (M, K, N)."""

    def matrix(rows: int, cols: int, stem: str) -> Any:
        return sympy.Matrix(rows, cols, lambda r, c: sympy.Symbol(f"{stem}_{r + 1}_{c + 1}"))

    if samples == "rows":
        inputs, weights, bias = matrix(M, K, "z"), matrix(K, N, "w"), matrix(1, N, "b")
        upstream = matrix(M, N, "g")
        product = inputs * weights
        outputs = product + sympy.ones(M, 1) * bias
        names = {"Z": inputs}
    else:
        inputs, weights, bias = matrix(K, M, "x"), matrix(N, K, "w"), matrix(N, 1, "b")
        upstream = matrix(N, M, "g")
        product = weights * inputs
        outputs = product + bias * sympy.ones(1, M)
        names = {"X": inputs}
    loss = sum(g * a for g, a in zip(upstream, outputs, strict=True))
    gradients = {
        f"d{name}": value.applyfunc(lambda entry: sympy.diff(loss, entry))
        for name, value in {**names, "W": weights, "b": bias}.items()
    }
    return {**names, "W": weights, "G": upstream, "A": product, **gradients}


def _vec(matrix: Any) -> Any:
    """Column-major vec: the columns of ``matrix`` stacked."""
    return sympy.Matrix(matrix.T).reshape(matrix.rows * matrix.cols, 1)


def _factor(text: str, layer: dict[str, Any]) -> Any:
    """I_m, I_n, I_k, or a matrix of the layer, transposed by a trailing ᵀ."""
    if text.startswith("I_"):
        return sympy.eye({"m": M, "k": K, "n": N}[text[2:]])
    transposed = text.endswith("ᵀ")
    value = layer[text.rstrip("ᵀ")]
    return value.T if transposed else value


def _vec_identity(cell: str, samples: Samples) -> str | None:
    """vec(LEFT) = (P ⊗ Q) vec(V) [= (P ⊗ Q) vec(V) …], each side multiplied out."""
    formula = _code(cell)
    first, *sides = formula.split(" = ")
    head = re.fullmatch(r"vec\((\w+)\)", first)
    if head is None or not sides:
        return f"cannot read {formula!r}"
    layer = _layer(samples)
    left = _vec(layer[head.group(1)])
    for side in sides:
        found = re.fullmatch(r"\((\S+) ⊗ (\S+)\) vec\((\w+)\)", side)
        if found is None:
            return f"cannot read {side!r}"
        kron = sympy.kronecker_product(*(_factor(f, layer) for f in found.groups()[:2]))
        vector = _vec(layer[found.group(3)])
        if kron.cols != vector.rows or kron.rows != left.rows:
            return f"{side!r} has the wrong shape for {first}"
        if (kron * vector - left).expand() != sympy.zeros(left.rows, 1):
            return f"{side!r} is not {first} with samples as {samples}"
    return None


#: How each line of the table is checked, by its first cell: a function of the cell and the
#: convention of its column.
CHECKS: dict[str, Callable[[str, Samples], str | None]] = {
    **{label: functools.partial(_shape_and_entries, label) for label in _ROLES},
    "forward pass": _forward,
    "one entry": _entry,
    **dict.fromkeys(("∂L/∂input", "∂L/∂W", "∂L/∂b", "∂L/∂b with the ones"), _claim),
    **dict.fromkeys(
        (
            "vec of the product (column-major vec)",
            "∂L/∂W through the Jacobian",
            "∂L/∂input through the Jacobian",
        ),
        _vec_identity,
    ),
    "∂L/∂W in numerator layout (the shape of Wᵀ)": _numerator,
}


def failures(table: Table) -> list[str]:
    """Every line of ``table`` that does not hold, with the reason."""
    found = []
    for label, cells in table.items():
        for samples, cell in zip(CONVENTIONS, cells, strict=True):
            reason = CHECKS[label](cell, samples)
            if reason is not None:
                found.append(f"{label} ({samples}): {reason}")
    return found


def test_the_table_has_every_line_and_each_is_checked() -> None:
    assert set(read_table(PAGE.read_text(encoding="utf-8"))) == set(CHECKS)


def test_every_line_of_the_table_holds() -> None:
    assert failures(read_table(PAGE.read_text(encoding="utf-8"))) == []


#: One wrong cell per kind of check: (line, convention, the wrong cell).
WRONG_CELLS = [
    ("weights", "columns", "`W` is k×n, entries w_{r,j}"),
    ("bias", "columns", "`b` is n×1, entries b_j (a row added to every row)"),
    ("upstream gradient G = ∂L/∂A", "columns", "`G` is m×n, entries ∂L/∂a_{j,i}"),
    ("forward pass", "columns", "`A = XW + 1_m b`"),
    ("one entry", "columns", "`a_{j,i} = Σ_r w_{r,j} x_{r,i} + b_j`"),
    ("one entry", "rows", "`a_{i,j} = Σ_r z_{r,i} w_{r,j} + b_j`"),
    ("∂L/∂input", "columns", "`dX = G @ W.T`"),
    ("∂L/∂W", "columns", "`dW = X.T @ G`"),
    ("∂L/∂W", "rows", "`dW = G.T @ Z`"),
    ("∂L/∂b", "columns", "`db = sum(G, axis=0)`"),
    ("vec of the product (column-major vec)", "columns", "`vec(A) = (I_n ⊗ W) vec(X)`"),
    (
        "vec of the product (column-major vec)",
        "rows",
        "`vec(A) = (I_n ⊗ Z) vec(W) = (W ⊗ I_m) vec(Z)`",
    ),
    ("∂L/∂W through the Jacobian", "columns", "`vec(dW) = (Xᵀ ⊗ I_n) vec(G)`"),
    ("∂L/∂input through the Jacobian", "rows", "`vec(dZ) = (Wᵀ ⊗ I_m) vec(G)`"),
    ("∂L/∂W in numerator layout (the shape of Wᵀ)", "columns", "`dW_numerator = G @ X.T`"),
]


@pytest.mark.parametrize(("label", "samples", "cell"), WRONG_CELLS)
def test_a_wrong_line_is_reported(label: str, samples: Samples, cell: str) -> None:
    table = read_table(PAGE.read_text(encoding="utf-8"))
    rows, columns = table[label]
    table[label] = (cell, columns) if samples == "rows" else (rows, cell)
    found = failures(table)
    assert [reason.split(":", 1)[0] for reason in found] == [f"{label} ({samples})"]


def test_the_page_warns_about_the_other_meaning_of_z_and_a() -> None:
    text = PAGE.read_text(encoding="utf-8")
    warning = " ".join(text.split("### A warning about Andrew Ng's notation", 1)[1].split())
    assert "Z is the **pre-activation**" in warning
    assert "matgrad never uses Ng's names" in warning


def _renamed(matrix: Any, renames: dict[str, str]) -> Any:
    """``matrix`` with each symbol whose name starts with a key renamed: z_1_2 → x_1_2."""
    mapping = {}
    for symbol in matrix.free_symbols:
        for old, new in renames.items():
            if symbol.name.startswith(old):
                mapping[symbol] = sympy.Symbol(new + symbol.name[len(old) :])
    return matrix.xreplace(mapping)


@pytest.mark.parametrize(("bias"), [True, False])
def test_the_single_layer_is_the_network_without_hidden_layers(bias: bool) -> None:
    """The section "Networks": with no hidden layer and the identity, the network's gradients are
    the single layer's with Z, W, b, A read as X, W1, b1, A1, entry for entry."""
    from matgrad_cli.core.network_derive import derive_network

    text = PAGE.read_text(encoding="utf-8")
    assert "**The single layer is the special case.**" in text
    layer = derive(2, 3, 4, bias=bias)
    network = derive_network(2, 3, (), 4, bias=bias)
    assert layer.verified
    assert network.verified
    renames = {"z_": "x_", "w_": "w1_", "b_": "b1_", "dA_": "dA1_"}
    pairs: list[tuple[Literal["Z", "W", "b"], str]] = [("Z", "X"), ("W", "W1")]
    pairs += [("b", "b1")] if bias else []
    for single, named in pairs:
        expected = _renamed(layer.gradient_matrix(single), renames)
        assert (expected - network.gradient_matrix(named)).expand() == sympy.zeros(*expected.shape)
    # A wrong renaming (the weights' indices transposed) is told apart: the comparison can fail.
    swapped = layer.gradient_matrix("Z").xreplace(
        {
            s: sympy.Symbol("w1_" + "_".join(reversed(s.name[2:].split("_"))))
            for s in layer.gradient_matrix("Z").free_symbols
            if s.name.startswith("w_")
        }
    )
    wrong = _renamed(swapped, renames) - network.gradient_matrix("X")
    assert wrong.expand() != sympy.zeros(*wrong.shape)
