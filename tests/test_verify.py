"""The verification can fail: wrong matrix forms, the seed notes' mistakes (SPEC §5) and forms of
the wrong shape are all rejected at the entries where they are wrong, and the true forms hold."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sympy

from matgrad_cli import derive
from matgrad_cli.core.checks import MISMATCHES_KEPT, Check
from matgrad_cli.core.compare import compare, compare_matrix
from matgrad_cli.core.derive import _without_cycle_collector, build_symbols
from matgrad_cli.core.elementwise import Differentiator, elementwise_gradients, forward
from matgrad_cli.core.engine import ENGINE_NAMES, Engine, get_engine, linear_value
from matgrad_cli.core.layer import Sizes, Variable
from matgrad_cli.core.matrix import matmul, transpose, upstream_form
from matgrad_cli.core.model import Gradient, MatrixForm, Symbols, UpstreamTerm

Index = tuple[int, int]


@dataclass(frozen=True)
class Layer:
    """The elementwise gradients of A = ZW at one size, with what it takes to build claims."""

    sizes: Sizes
    engine: Engine
    symbols: Symbols
    gradients: dict[Variable, Gradient]

    @property
    def inputs(self) -> Any:
        return self.engine.matrix(self.symbols.input)

    @property
    def weights(self) -> Any:
        return self.engine.matrix(self.symbols.weights)

    @property
    def upstream(self) -> MatrixForm:
        return upstream_form(self.sizes)

    @property
    def upstream_matrix(self) -> Any:
        return self.engine.matrix(self.symbols.upstream)

    def check(self, name: Variable, form: MatrixForm) -> Check:
        return compare(self.gradients[name], form, False, self.symbols, self.engine)

    def check_matrix(self, name: Variable, claimed: Any, formula: str = "claim") -> Check:
        return compare_matrix(
            self.gradients[name], claimed, formula, False, self.symbols, self.engine
        )


def layer(m: int, k: int, n: int, engine: str = "symengine") -> Layer:
    derivation = derive(m, k, n, bias=False, engine=engine)
    gradients = dict(derivation.plain.gradients)
    return Layer(derivation.sizes, get_engine(engine), derivation.symbols, gradients)


def all_indices(rows: int, cols: int) -> list[Index]:
    return [(i, j) for i in range(1, rows + 1) for j in range(1, cols + 1)]


def off_diagonal(rows: int, cols: int) -> list[Index]:
    return [(i, j) for i, j in all_indices(rows, cols) if i != j]


def assert_rejected_at(check: Check, wrong_entries: list[Index]) -> None:
    """The check failed, over every entry, and lists the first wrong entries in row-major order."""
    assert wrong_entries, "a test of a rejection needs at least one wrong entry"
    assert not check.holds
    assert check.claimed_shape == check.shape
    assert check.entries_checked == check.shape[0] * check.shape[1]
    assert [mismatch.index for mismatch in check.mismatches] == wrong_entries[:MISMATCHES_KEPT]
    assert check.mismatch_count == len(wrong_entries)


def assert_holds(check: Check) -> None:
    assert check.holds, check.mismatches
    assert check.mismatches == ()
    assert check.mismatch_count == 0
    assert check.entries_checked == check.shape[0] * check.shape[1]


def size_id(size: tuple[int, int, int]) -> str:
    return "x".join(map(str, size))


engines = pytest.mark.parametrize("engine", ENGINE_NAMES)


# --- the true forms hold --------------------------------------------------------------------------


@engines
@pytest.mark.parametrize(
    "size", [(1, 1, 1), (2, 2, 2), (3, 3, 3), (2, 3, 4), (4, 1, 3)], ids=size_id
)
def test_true_matrix_forms_hold(size: tuple[int, int, int], engine: str) -> None:
    net = layer(*size, engine=engine)
    m = net.sizes.m
    assert_holds(net.check("Z", matmul(net.upstream, net.weights.T, net.engine, "G·Wᵀ")))
    assert_holds(net.check("W", matmul(net.inputs.T, net.upstream, net.engine, "Zᵀ·G")))
    derivation = derive(*size, bias=True, engine=engine)
    assert derivation.biased is not None
    ones_row = net.engine.matrix([[1] * m])
    bias_check = compare(
        derivation.biased.gradients["b"],
        matmul(ones_row, upstream_form(net.sizes), net.engine, "1ᵀ·G"),
        True,
        derivation.symbols,
        net.engine,
    )
    assert_holds(bias_check)


@engines
@pytest.mark.parametrize("size", [(2, 2, 2), (3, 2, 4)], ids=size_id)
def test_true_forms_written_as_plain_matrices_hold(size: tuple[int, int, int], engine: str) -> None:
    net = layer(*size, engine=engine)
    upstream = net.upstream_matrix
    assert_holds(net.check_matrix("Z", upstream * net.weights.T))
    assert_holds(net.check_matrix("W", net.inputs.T * upstream))


# --- wrong forms are rejected at the entries where they are wrong --------------------------------

SQUARE_INNER = [(2, 2, 2), (3, 3, 3), (4, 2, 2), (1, 3, 3), (2, 4, 4)]


@engines
@pytest.mark.parametrize("size", SQUARE_INNER, ids=size_id)
def test_upstream_times_w_instead_of_w_transposed_is_rejected(
    size: tuple[int, int, int], engine: str
) -> None:
    net = layer(*size, engine=engine)  # k == n, so G·W has the shape of Z
    check = net.check("Z", matmul(net.upstream, net.weights, net.engine, "∂L/∂A · W"))
    # (G·W)_{i,r} = Σ_q g_{i,q} w_{q,r} against Σ_q g_{i,q} w_{r,q}: every entry differs.
    assert_rejected_at(check, all_indices(net.sizes.m, net.sizes.k))


@engines
@pytest.mark.parametrize("size", [(2, 2, 2), (3, 3, 3), (4, 4, 4)], ids=size_id)
def test_w_transposed_times_upstream_is_rejected(size: tuple[int, int, int], engine: str) -> None:
    net = layer(*size, engine=engine)  # m == k == n
    check = net.check("Z", matmul(net.weights.T, net.upstream, net.engine, "Wᵀ · ∂L/∂A"))
    assert_rejected_at(check, all_indices(net.sizes.m, net.sizes.k))


@engines
@pytest.mark.parametrize("size", SQUARE_INNER, ids=size_id)
def test_transposed_weight_gradient_is_rejected_off_the_diagonal(
    size: tuple[int, int, int], engine: str
) -> None:
    net = layer(*size, engine=engine)  # k == n, so (Zᵀ·G)ᵀ has the shape of W
    transposed = transpose(matmul(net.inputs.T, net.upstream, net.engine, "Zᵀ · ∂L/∂A"))
    check = net.check("W", transposed)
    # Diagonal entries Σ_i z_{i,r} g_{i,r} are symmetric in the swap, so only they survive.
    assert_rejected_at(check, off_diagonal(net.sizes.k, net.sizes.n))


@engines
@pytest.mark.parametrize("size", [(1, 1, 1), (2, 2, 2), (3, 3, 3), (2, 3, 4)], ids=size_id)
def test_negated_input_gradient_is_rejected_everywhere(
    size: tuple[int, int, int], engine: str
) -> None:
    net = layer(*size, engine=engine)
    check = net.check("Z", matmul(net.upstream, -net.weights.T, net.engine, "-(∂L/∂A · Wᵀ)"))
    assert_rejected_at(check, all_indices(net.sizes.m, net.sizes.k))


@engines
@pytest.mark.parametrize("size", [(1, 1, 1), (2, 2, 2), (3, 3, 3), (4, 2, 3)], ids=size_id)
def test_doubled_weight_gradient_is_rejected_everywhere(
    size: tuple[int, int, int], engine: str
) -> None:
    net = layer(*size, engine=engine)
    check = net.check("W", matmul(2 * net.inputs.T, net.upstream, net.engine, "2 Zᵀ · ∂L/∂A"))
    assert_rejected_at(check, all_indices(net.sizes.k, net.sizes.n))


def _replace_entry(
    form: MatrixForm, index: Index, new_terms: tuple[UpstreamTerm, ...]
) -> MatrixForm:
    row, col = index[0] - 1, index[1] - 1
    entries = [list(entry_row) for entry_row in form.entries]
    entries[row][col] = new_terms
    return MatrixForm(form.formula + " (perturbed)", form.shape, tuple(map(tuple, entries)))


Perturbation = Callable[[tuple[UpstreamTerm, ...], Layer], tuple[UpstreamTerm, ...]]


def _factor_plus_one(terms: tuple[UpstreamTerm, ...], _: Layer) -> tuple[UpstreamTerm, ...]:
    (output, factor), *rest = terms
    return ((output, factor + 1), *rest)


def _extra_term(terms: tuple[UpstreamTerm, ...], net: Layer) -> tuple[UpstreamTerm, ...]:
    # A term for an a_{p,q} from another row: a plausible slip that keeps every factor right.
    m, n = net.sizes.m, net.sizes.n
    (p, q), factor = terms[0]
    other = (p % m + 1, q) if m > 1 else (p, q % n + 1)
    return (*terms, (other, factor))


def _dropped_term(terms: tuple[UpstreamTerm, ...], _: Layer) -> tuple[UpstreamTerm, ...]:
    return terms[:-1]


def _swapped_outputs(terms: tuple[UpstreamTerm, ...], _: Layer) -> tuple[UpstreamTerm, ...]:
    (first_output, first_factor), (second_output, second_factor), *rest = terms
    return ((first_output, second_factor), (second_output, first_factor), *rest)


PERTURBATIONS: dict[str, Perturbation] = {
    "factor-plus-one": _factor_plus_one,
    "extra-term": _extra_term,
    "dropped-term": _dropped_term,
    "swapped-factors": _swapped_outputs,
}


@engines
@pytest.mark.parametrize("perturbation", list(PERTURBATIONS), ids=str)
@pytest.mark.parametrize(
    ("size", "index"),
    [((2, 2, 2), (1, 1)), ((2, 2, 2), (2, 2)), ((3, 3, 3), (2, 3)), ((4, 3, 2), (4, 3))],
    ids=["2x2x2-first", "2x2x2-last", "3x3x3-middle", "4x3x2-last"],
)
def test_input_gradient_with_one_perturbed_entry_is_rejected_at_that_entry(
    size: tuple[int, int, int], index: Index, perturbation: str, engine: str
) -> None:
    net = layer(*size, engine=engine)
    true_form = matmul(net.upstream, net.weights.T, net.engine, "∂L/∂A · Wᵀ")
    assert_holds(net.check("Z", true_form))
    row, col = index
    perturbed_terms = PERTURBATIONS[perturbation](true_form.entries[row - 1][col - 1], net)
    check = net.check("Z", _replace_entry(true_form, index, perturbed_terms))
    assert_rejected_at(check, [index])
    (mismatch,) = check.mismatches
    correct = linear_value(true_form.entries[row - 1][col - 1], net.symbols.upstream, net.engine)
    wrong = linear_value(perturbed_terms, net.symbols.upstream, net.engine)
    assert net.engine.is_zero(net.engine.expand(mismatch.elementwise - correct))
    assert net.engine.is_zero(net.engine.expand(mismatch.claimed - wrong))


@engines
@pytest.mark.parametrize("size", [(2, 3, 2), (3, 2, 4), (1, 2, 1), (4, 3, 3)], ids=size_id)
def test_form_of_the_wrong_shape_is_rejected_without_comparing_entries(
    size: tuple[int, int, int], engine: str
) -> None:
    net = layer(*size, engine=engine)
    m, k, n = size
    assert m != k
    claimed = matmul(net.inputs.T, net.upstream, net.engine, "Zᵀ · ∂L/∂A")  # k×n
    check = net.check("Z", claimed)
    assert not check.holds
    assert check.shape == (m, k)
    assert check.claimed_shape == (k, n)
    assert check.entries_checked == 0
    assert check.mismatches == ()
    matrix_check = net.check_matrix("Z", net.inputs.T * net.upstream_matrix)
    assert not matrix_check.holds
    assert matrix_check.claimed_shape == (k, n)
    assert matrix_check.entries_checked == 0


@engines
@pytest.mark.parametrize("size", [(2, 2, 2), (3, 3, 3), (3, 2, 2)], ids=size_id)
def test_wrong_forms_written_as_plain_matrices_are_rejected(
    size: tuple[int, int, int], engine: str
) -> None:
    net = layer(*size, engine=engine)
    m, k, n = size
    upstream, weights, inputs = net.upstream_matrix, net.weights, net.inputs
    assert_rejected_at(net.check_matrix("Z", upstream * weights), all_indices(m, k))
    assert_rejected_at(net.check_matrix("Z", -(upstream * weights.T)), all_indices(m, k))
    assert_rejected_at(net.check_matrix("W", (inputs.T * upstream).T), off_diagonal(k, n))
    assert_rejected_at(net.check_matrix("W", 2 * (inputs.T * upstream)), all_indices(k, n))


def test_claims_built_with_sympy_are_compared_with_symengine_gradients() -> None:
    net = layer(2, 3, 2, engine="symengine")
    upstream = sympy.Matrix(2, 2, lambda i, j: sympy.Symbol(f"dA_{i + 1}_{j + 1}"))
    weights = sympy.Matrix(3, 2, lambda r, j: sympy.Symbol(f"w_{r + 1}_{j + 1}"))
    assert_holds(net.check_matrix("Z", upstream * weights.T))
    wrong = upstream * weights.T
    wrong[1, 2] = wrong[1, 2] + sympy.Symbol("w_1_1")
    assert_rejected_at(net.check_matrix("Z", wrong), [(2, 3)])


# --- a wrong form is caught at N = 64 -------------------------------------------------------------


@pytest.fixture
def no_cycle_collector() -> Iterator[None]:
    """As derive() does for large layers: millions of acyclic objects, no cycles to find."""
    with _without_cycle_collector():
        yield


@pytest.mark.usefixtures("no_cycle_collector")
def test_transposed_weight_gradient_is_caught_at_size_64() -> None:
    sizes = Sizes(64, 64, 64)
    engine = get_engine("symengine")
    symbols = build_symbols(sizes, engine)
    outputs = forward(symbols, sizes, False, engine)
    gradients = elementwise_gradients(
        outputs, symbols, sizes, False, Differentiator(engine), engine
    )
    true_form = matmul(engine.matrix(symbols.input).T, upstream_form(sizes), engine, "Zᵀ · ∂L/∂A")
    check = compare(gradients["W"], transpose(true_form), False, symbols, engine)
    assert_rejected_at(check, off_diagonal(64, 64))
    assert check.entries_checked == 64 * 64
    # The true form's entry (1,2), checked alone, is right where the transpose is wrong.
    assert check.mismatches[0].index == (1, 2)
    rule = gradients["W"].entries[0][1]
    assert rule.terms == true_form.entries[0][1]


# --- the mistakes of the seed notes (SPEC §5) -----------------------------------------------------


def _seed_names(engine: Engine) -> dict[str, Any]:
    """g11 … w22, z11 … z22 of the 2×2 example in the seed notes, as engine symbols."""
    names: dict[str, Any] = {}
    for i in (1, 2):
        for j in (1, 2):
            names[f"g{i}{j}"] = engine.symbol(f"dA_{i}_{j}")
            names[f"w{i}{j}"] = engine.symbol(f"w_{i}_{j}")
            names[f"z{i}{j}"] = engine.symbol(f"z_{i}_{j}")
    return names


@engines
def test_seed_assembled_input_gradient_with_misplaced_entries_is_rejected(engine: str) -> None:
    net = layer(2, 2, 2, engine=engine)
    s = _seed_names(net.engine)
    # The four scalar equations of the notes are right; assembled in their places, they hold.
    right = net.engine.matrix(
        [
            [s["g11"] * s["w11"] + s["g12"] * s["w12"], s["g11"] * s["w21"] + s["g12"] * s["w22"]],
            [s["g21"] * s["w11"] + s["g22"] * s["w12"], s["g21"] * s["w21"] + s["g22"] * s["w22"]],
        ]
    )
    assert_holds(net.check_matrix("Z", right))
    # The notes' matrix, as written.
    seed = net.engine.matrix(
        [
            [s["g11"] * s["w11"] + s["g12"] * s["w12"], s["g21"] * s["w11"] + s["g22"] * s["w12"]],
            [s["g21"] * s["w21"] + s["g22"] * s["w22"], s["g11"] * s["w21"] + s["g12"] * s["w22"]],
        ]
    )
    check = net.check_matrix("Z", seed, "the seed's assembled ∂L/∂Z")
    assert_rejected_at(check, [(1, 2), (2, 1), (2, 2)])
    for mismatch in check.mismatches:
        row, col = mismatch.index
        assert net.engine.is_zero(net.engine.expand(mismatch.claimed - seed[row - 1, col - 1]))
        assert net.engine.is_zero(net.engine.expand(mismatch.elementwise - right[row - 1, col - 1]))


@engines
def test_seed_weight_gradient_with_swapped_entries_is_rejected(engine: str) -> None:
    net = layer(2, 2, 2, engine=engine)
    s = _seed_names(net.engine)
    # The notes' term-by-term ∂L/∂w_{1,2} and ∂L/∂w_{2,1}, and the matrix assembled from them.
    seed = net.engine.matrix(
        [
            [s["g11"] * s["z11"] + s["g21"] * s["z21"], s["g11"] * s["z12"] + s["g21"] * s["z22"]],
            [s["g12"] * s["z11"] + s["g22"] * s["z21"], s["g12"] * s["z12"] + s["g22"] * s["z22"]],
        ]
    )
    check = net.check_matrix("W", seed, "the seed's ∂L/∂W")
    assert_rejected_at(check, [(1, 2), (2, 1)])
    # It is the transpose of Zᵀ·∂L/∂A, as SPEC §5 says, and Zᵀ·∂L/∂A itself holds.
    true_matrix = net.inputs.T * net.upstream_matrix
    assert net.engine.is_zero(net.engine.expand(seed[0, 1] - true_matrix[1, 0]))
    assert net.engine.is_zero(net.engine.expand(seed[1, 0] - true_matrix[0, 1]))
    assert_holds(net.check_matrix("W", true_matrix))


@engines
def test_seed_claim_z_transposed_times_weight_gradient_is_rejected(engine: str) -> None:
    # "∂L/∂W = Zᵀ ∂L/∂W": with W standing where ∂L/∂A belongs (m = k = n = 2, shapes agree).
    net = layer(2, 2, 2, engine=engine)
    check = net.check_matrix("W", net.inputs.T * net.weights, "Zᵀ · W")
    assert_rejected_at(check, all_indices(2, 2))


def _general_weight_entry(net: Layer, r: int, j: int, transposed: bool) -> Any:
    """Σ_i z_{i,r} ∂L/∂a_{i,j}; transposed, the notes' Σ_i ∂L/∂a_{i,r} z_{i,j} (1-based r, j)."""
    z, g = net.symbols.input, net.symbols.upstream
    if transposed:
        return net.engine.add([g[i][r - 1] * z[i][j - 1] for i in range(net.sizes.m)])
    return net.engine.add([z[i][r - 1] * g[i][j - 1] for i in range(net.sizes.m)])


@engines
@pytest.mark.parametrize("size", [(2, 3, 3), (4, 3, 3), (3, 4, 4)], ids=size_id)
def test_seed_general_weight_sums_with_transposed_indices_are_rejected(
    size: tuple[int, int, int], engine: str
) -> None:
    net = layer(*size, engine=engine)  # k == n: the notes' sums name z_{i,j} and ∂L/∂a_{i,r}
    k, n = net.sizes.k, net.sizes.n
    wrong_in_notes = {(1, 2), (1, n), (2, 1)}  # ∂L/∂w_{1,2}, ∂L/∂w_{1,n}, ∂L/∂w_{2,1}
    claimed = net.engine.matrix(
        [
            [
                _general_weight_entry(net, r, j, transposed=(r, j) in wrong_in_notes)
                for j in range(1, n + 1)
            ]
            for r in range(1, k + 1)
        ]
    )
    assert_rejected_at(net.check_matrix("W", claimed), sorted(wrong_in_notes))
    everywhere = net.engine.matrix(
        [
            [_general_weight_entry(net, r, j, transposed=True) for j in range(1, n + 1)]
            for r in range(1, k + 1)
        ]
    )
    assert_rejected_at(net.check_matrix("W", everywhere), off_diagonal(k, n))
    right = net.engine.matrix(
        [
            [_general_weight_entry(net, r, j, transposed=False) for j in range(1, n + 1)]
            for r in range(1, k + 1)
        ]
    )
    assert_holds(net.check_matrix("W", right))


@engines
@pytest.mark.parametrize("size", [(3, 2, 2), (2, 4, 3)], ids=size_id)
def test_seed_general_z_transposed_with_mixed_indices_cannot_be_multiplied(
    size: tuple[int, int, int], engine: str
) -> None:
    # The notes' general Zᵀ has m rows [z_{1,r} … z_{k,r}]: Z's index ranges swapped. At m ≠ k
    # it is m×k, so its product with the m×n ∂L/∂A is refused rather than silently formed.
    net = layer(*size, engine=engine)
    m, k = net.sizes.m, net.sizes.k
    mixed = net.engine.matrix(
        [[net.engine.symbol(f"z_{c}_{r}") for c in range(1, k + 1)] for r in range(1, m + 1)]
    )
    with pytest.raises(ValueError, match="inner sizes"):
        matmul(mixed, net.upstream, net.engine, "mixed Zᵀ · ∂L/∂A")


@engines
@pytest.mark.parametrize("size", [(2, 2, 2), (3, 1, 3)], ids=size_id)
def test_bias_gradient_as_a_column_of_row_sums_is_rejected(
    size: tuple[int, int, int], engine: str
) -> None:
    # The notes draw b as a column [b_1; b_2]; its gradient would be ∂L/∂A·1_n, the row sums.
    m, k, n = size
    derivation = derive(m, k, n, bias=True, engine=engine)
    assert derivation.biased is not None
    cas = get_engine(engine)
    bias_gradient = derivation.biased.gradients["b"]
    row_sums = matmul(upstream_form(derivation.sizes), cas.matrix([[1]] * n), cas, "∂L/∂A · 1")
    as_column = compare(bias_gradient, row_sums, True, derivation.symbols, cas)
    assert not as_column.holds
    assert as_column.claimed_shape == (m, 1)
    assert as_column.entries_checked == 0
    # Laid down as a row (m == n here), the row sums are still wrong in every entry.
    as_row = compare(bias_gradient, transpose(row_sums), True, derivation.symbols, cas)
    assert_rejected_at(as_row, all_indices(1, n))
    column_sums = matmul(cas.matrix([[1] * m]), upstream_form(derivation.sizes), cas, "1ᵀ·G")
    assert_holds(compare(bias_gradient, column_sums, True, derivation.symbols, cas))
