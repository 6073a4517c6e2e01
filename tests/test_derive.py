"""The elementwise derivation: it verifies at every small size, it agrees with independent SymPy
routes, its symbols never collide, its sums are in summation order, and it refuses bad sizes."""

from __future__ import annotations

import gc
import itertools
from dataclasses import replace
from functools import cache
from typing import Any

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from matgrad_cli import derive
from matgrad_cli.core.derive import SYMBOLIC_LIMITS, build_symbols, validate_sizes
from matgrad_cli.core.elementwise import Differentiator, elementwise_gradients
from matgrad_cli.core.engine import ENGINE_NAMES, Engine, get_engine, linear_value
from matgrad_cli.core.layer import Sizes, Variable
from matgrad_cli.core.model import Derivation, Gradient, OutputEntry, Symbols
from matgrad_cli.errors import MatgradError, SizeError

from .reference import expanded_loss_gradients, reference_gradients

Size = tuple[int, int, int]
SIZES_UP_TO_4: list[Size] = [(m, k, n) for m, k, n in itertools.product(range(1, 5), repeat=3)]
SIZES_UP_TO_3: list[Size] = [size for size in SIZES_UP_TO_4 if max(size) <= 3]
SIZES_WITH_A_4 = [size for size in SIZES_UP_TO_4 if max(size) == 4]


def size_id(size: tuple[int, int, int]) -> str:
    return "x".join(map(str, size))


@cache
def cached_reference(m: int, k: int, n: int, bias: bool) -> dict[str, list[list[Any]]]:
    """The Function-based reference route is the slow part of the suite: compute each once."""
    return reference_gradients(m, k, n, bias)


def as_sympy(expr: Any) -> Any:
    """A symengine expression converted to SymPy; SymPy expressions and ints pass through."""
    return expr._sympy_() if hasattr(expr, "_sympy_") else sympy.sympify(expr)


def expanded_entries(derivation: Derivation, gradient: Gradient) -> list[list[Any]]:
    """Each chain-rule sum of ``gradient`` as one SymPy expression, in the shape of its variable."""
    engine = get_engine(derivation.engine)
    return [
        [as_sympy(linear_value(rule.terms, derivation.symbols.upstream, engine)) for rule in row]
        for row in gradient.entries
    ]


def assert_matches_reference(derivation: Derivation, reference: dict[str, list[list[Any]]]) -> None:
    """Every elementwise entry of every layer equals the reference entry (expanded difference 0)."""
    layer = derivation.biased if derivation.biased is not None else derivation.plain
    assert sorted(layer.gradients) == sorted(reference)
    for name, gradient in layer.gradients.items():
        ours = expanded_entries(derivation, gradient)
        theirs = reference[name]
        assert [len(row) for row in ours] == [len(row) for row in theirs], name
        for row_index, (our_row, their_row) in enumerate(zip(ours, theirs, strict=True)):
            for col_index, (our_entry, their_entry) in enumerate(
                zip(our_row, their_row, strict=True)
            ):
                difference = sympy.expand(our_entry - their_entry)
                assert difference == 0, (
                    f"∂L/∂{name} entry ({row_index + 1},{col_index + 1}): "
                    f"{our_entry} != {their_entry}"
                )
    if derivation.biased is not None:
        # The layer without the bias must agree with the reference without b.
        unbiased = {name: reference[name] for name in ("Z", "W")}
        for name, gradient in derivation.plain.gradients.items():
            ours = expanded_entries(derivation, gradient)
            for our_row, their_row in zip(ours, unbiased[name], strict=True):
                for our_entry, their_entry in zip(our_row, their_row, strict=True):
                    assert sympy.expand(our_entry - their_entry) == 0


# --- every small size verifies and agrees with independent routes ------------------------------


@pytest.mark.parametrize("engine", ENGINE_NAMES)
@pytest.mark.parametrize("bias", [False, True], ids=["no-bias", "bias"])
@pytest.mark.parametrize("size", SIZES_UP_TO_4, ids=size_id)
def test_every_size_up_to_four_verifies(
    size: tuple[int, int, int], bias: bool, engine: str
) -> None:
    derivation = derive(*size, bias=bias, engine=engine)
    assert derivation.verified
    assert derivation.engine == engine
    # Without b: Z and W. With b: those, then Z, W and b again, then the two "unchanged" checks.
    expected = ["Z", "W", "Z", "W", "b", "Z", "W"] if bias else ["Z", "W"]
    assert [check.variable for check in derivation.checks] == expected
    m, k, n = size
    for check in derivation.checks:
        assert check.holds
        assert check.mismatches == ()
        assert check.entries_checked == {"Z": m * k, "W": k * n, "b": n}[check.variable]


@pytest.mark.parametrize("engine", ENGINE_NAMES)
@pytest.mark.parametrize("bias", [False, True], ids=["no-bias", "bias"])
@pytest.mark.parametrize("size", SIZES_UP_TO_3, ids=size_id)
def test_elementwise_entries_equal_sympy_chain_rule_on_undefined_loss(
    size: tuple[int, int, int], bias: bool, engine: str
) -> None:
    derivation = derive(*size, bias=bias, engine=engine)
    assert derivation.verified
    assert_matches_reference(derivation, cached_reference(*size, bias))


@settings(max_examples=16, deadline=None)
@given(
    size=st.sampled_from(SIZES_WITH_A_4),
    bias=st.booleans(),
    engine=st.sampled_from(ENGINE_NAMES),
)
def test_elementwise_entries_equal_sympy_chain_rule_at_size_four(
    size: tuple[int, int, int], bias: bool, engine: str
) -> None:
    derivation = derive(*size, bias=bias, engine=engine)
    assert derivation.verified
    assert_matches_reference(derivation, cached_reference(*size, bias))


@pytest.mark.parametrize("engine", ENGINE_NAMES)
@pytest.mark.parametrize("bias", [False, True], ids=["no-bias", "bias"])
def test_elementwise_entries_equal_derivative_of_expanded_loss_at_every_size_up_to_four(
    bias: bool, engine: str
) -> None:
    for size in SIZES_UP_TO_4:
        derivation = derive(*size, bias=bias, engine=engine)
        assert derivation.verified, size
        assert_matches_reference(derivation, expanded_loss_gradients(*size, bias))


def test_reference_route_matches_the_textbook_matrix_products() -> None:
    # A sanity check of the reference itself, with SymPy's matrices: G·Wᵀ, Zᵀ·G and 1ᵀ·G.
    m, k, n = 3, 2, 4
    reference = reference_gradients(m, k, n, True)
    inputs = sympy.Matrix(m, k, lambda i, r: sympy.Symbol(f"z_{i + 1}_{r + 1}"))
    weights = sympy.Matrix(k, n, lambda r, j: sympy.Symbol(f"w_{r + 1}_{j + 1}"))
    upstream = sympy.Matrix(m, n, lambda i, j: sympy.Symbol(f"dA_{i + 1}_{j + 1}"))
    expected = {
        "Z": upstream * weights.T,
        "W": inputs.T * upstream,
        "b": sympy.ones(1, m) * upstream,
    }
    for name, matrix in expected.items():
        assert (sympy.Matrix(reference[name]) - matrix).expand() == sympy.zeros(*matrix.shape)


def test_reference_route_leaves_no_derivative_of_the_loss() -> None:
    reference = reference_gradients(2, 3, 2, True)
    for rows in reference.values():
        for row in rows:
            for entry in row:
                assert not entry.has(sympy.Derivative, sympy.Subs)
                assert entry.free_symbols  # never the zero of a lost term


# --- naming ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_symbols_with_two_digit_indices_do_not_collide(engine: str) -> None:
    derivation = derive(11, 11, 1, bias=False, engine=engine)
    inputs = derivation.symbols.input
    z_1_11, z_11_1 = inputs[0][10], inputs[10][0]
    assert str(z_1_11) == "z_1_11"
    assert str(z_11_1) == "z_11_1"
    assert z_1_11 != z_11_1
    assert z_1_11 is not z_11_1
    names = [str(symbol) for row in inputs for symbol in row]
    assert len(names) == 11 * 11
    assert len(set(names)) == len(names)
    assert len({inputs[i][r] for i in range(11) for r in range(11)}) == 121
    for i in range(11):
        for r in range(11):
            assert str(inputs[i][r]) == f"z_{i + 1}_{r + 1}"
    assert derivation.verified
    # The chain rule of z_{1,11} reaches a_{1,1} through w_{11,1}; that of z_{11,1} through w_{1,1}.
    gradient = derivation.plain.gradients["Z"]
    (term_1_11,) = gradient.entries[0][10].terms
    (term_11_1,) = gradient.entries[10][0].terms
    assert (term_1_11[0], str(term_1_11[1])) == ((1, 1), "w_11_1")
    assert (term_11_1[0], str(term_11_1[1])) == ((11, 1), "w_1_1")


def test_all_symbol_names_are_unique_across_matrices_at_size_eleven() -> None:
    derivation = derive(11, 2, 11, bias=True)
    symbols = derivation.symbols
    names = (
        [str(s) for row in symbols.input for s in row]
        + [str(s) for row in symbols.weights for s in row]
        + [str(s) for s in symbols.bias]
        + [str(s) for row in symbols.upstream for s in row]
    )
    assert len(names) == len(set(names)) == 11 * 2 + 2 * 11 + 11 + 11 * 11
    assert str(symbols.upstream[0][10]) == "dA_1_11"
    assert str(symbols.upstream[10][0]) == "dA_11_1"
    assert derivation.verified


# --- summation-index order ------------------------------------------------------------------------

ORDER_SIZES = [(3, 4, 5), (4, 3, 2), (2, 2, 2), (1, 3, 4), (5, 1, 3)]


@pytest.mark.parametrize("engine", ENGINE_NAMES)
@pytest.mark.parametrize("size", ORDER_SIZES, ids=size_id)
def test_chain_rule_terms_follow_the_summation_index(
    size: tuple[int, int, int], engine: str
) -> None:
    m, k, n = size
    derivation = derive(m, k, n, bias=True, engine=engine)
    symbols = derivation.symbols
    for layer in (derivation.plain, derivation.biased):
        assert layer is not None
        inputs_gradient = layer.gradients["Z"]
        for i in range(m):
            for r in range(k):
                rule = inputs_gradient.entries[i][r]
                assert rule.variable == "Z"
                assert rule.index == (i + 1, r + 1)
                assert [output for output, _ in rule.terms] == [(i + 1, q + 1) for q in range(n)]
                assert [factor for _, factor in rule.terms] == [
                    symbols.weights[r][q] for q in range(n)
                ]
        weights_gradient = layer.gradients["W"]
        for r in range(k):
            for j in range(n):
                rule = weights_gradient.entries[r][j]
                assert rule.variable == "W"
                assert rule.index == (r + 1, j + 1)
                assert [output for output, _ in rule.terms] == [(i + 1, j + 1) for i in range(m)]
                assert [factor for _, factor in rule.terms] == [
                    symbols.input[i][r] for i in range(m)
                ]


@pytest.mark.parametrize("engine", ENGINE_NAMES)
@pytest.mark.parametrize("size", ORDER_SIZES, ids=size_id)
def test_forward_entries_are_written_in_summation_order_with_the_bias_last(
    size: tuple[int, int, int], engine: str
) -> None:
    m, k, n = size
    derivation = derive(m, k, n, bias=True, engine=engine)
    symbols = derivation.symbols
    assert derivation.biased is not None
    for layer, with_bias in ((derivation.plain, False), (derivation.biased, True)):
        assert len(layer.outputs) == m
        for p in range(m):
            assert len(layer.outputs[p]) == n
            for q in range(n):
                entry = layer.outputs[p][q]
                assert entry.index == (p + 1, q + 1)
                expected = [symbols.input[p][s] * symbols.weights[s][q] for s in range(k)]
                if with_bias:
                    expected.append(symbols.bias[q])
                assert list(entry.terms) == expected
                assert as_sympy(entry.value) == sympy.Add(*(as_sympy(t) for t in expected))


# --- the bias -------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINE_NAMES)
@pytest.mark.parametrize("size", [(1, 1, 1), (2, 2, 2), (3, 2, 4), (4, 3, 1)], ids=size_id)
def test_bias_leaves_input_and_weight_gradients_unchanged(
    size: tuple[int, int, int], engine: str
) -> None:
    derivation = derive(*size, bias=True, engine=engine)
    assert derivation.biased is not None
    unchanged = derivation.extra_checks
    assert [check.variable for check in unchanged] == ["Z", "W"]
    for check in unchanged:
        assert check.holds
        assert check.bias
        assert "without the bias" in check.formula
        assert check.shape == Sizes(*size).shape_of(check.variable)
        assert check.entries_checked == check.shape[0] * check.shape[1]
    for name in ("Z", "W"):
        biased_rules = derivation.biased.gradients[name].entries
        plain_rules = derivation.plain.gradients[name].entries
        assert [[rule.terms for rule in row] for row in biased_rules] == [
            [rule.terms for rule in row] for row in plain_rules
        ]
    assert set(derivation.plain.gradients) == {"Z", "W"}
    assert set(derivation.biased.gradients) == {"Z", "W", "b"}


@pytest.mark.parametrize("engine", ENGINE_NAMES)
@pytest.mark.parametrize("size", [(1, 2, 1), (3, 2, 4), (4, 1, 2)], ids=size_id)
def test_bias_gradient_is_one_term_per_row_with_factor_one(
    size: tuple[int, int, int], engine: str
) -> None:
    m, _, n = size
    derivation = derive(*size, bias=True, engine=engine)
    assert derivation.biased is not None
    gradient = derivation.biased.gradients["b"]
    assert gradient.shape == (1, n)
    assert len(gradient.entries) == 1
    for j, rule in enumerate(gradient.entries[0]):
        assert rule.variable == "b"
        assert rule.index == (1, j + 1)
        assert [output for output, _ in rule.terms] == [(i + 1, j + 1) for i in range(m)]
        assert all(factor == 1 for _, factor in rule.terms)
    bias_checks = [check for check in derivation.checks if check.variable == "b"]
    assert len(bias_checks) == 1
    assert bias_checks[0].holds
    assert bias_checks[0].formula == "1ᵀ · ∂L/∂A"


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_bias_that_changed_the_input_gradient_would_be_reported(engine: str) -> None:
    # The "unchanged" checks must compare the biased layer with the layer without b: corrupt
    # one chain rule of the biased ∂L/∂Z and the derivation must stop verifying, there.

    def corrupted_chain_rule(
        outputs: Any, symbols: Symbols, sizes: Sizes, bias: bool, *rest: Any
    ) -> dict[Variable, Gradient]:
        gradients = elementwise_gradients(outputs, symbols, sizes, bias, *rest)
        if not bias:
            return gradients
        gradient = gradients["Z"]
        first = gradient.entries[0][0]
        wrong = replace(first, terms=first.terms[:-1])  # one a_{p,q} forgotten
        rows = [list(row) for row in gradient.entries]
        rows[0][0] = wrong
        return {**gradients, "Z": replace(gradient, entries=tuple(map(tuple, rows)))}

    derivation = derive(2, 3, 2, bias=True, engine=engine, elementwise=corrupted_chain_rule)
    assert not derivation.verified
    unchanged_z, unchanged_w = derivation.extra_checks
    assert not unchanged_z.holds
    assert [mismatch.index for mismatch in unchanged_z.mismatches] == [(1, 1)]
    assert unchanged_w.holds


def test_without_the_bias_there_is_one_layer_and_no_bias_checks() -> None:
    derivation = derive(2, 3, 4, bias=False)
    assert derivation.biased is None
    assert derivation.extra_checks == ()
    assert [check.variable for check in derivation.checks] == ["Z", "W"]
    assert all(not check.bias for check in derivation.checks)


# --- bad sizes ------------------------------------------------------------------------------------

BAD_SIZES: list[object] = [0, -1, 2.5, "2", True, None]


@pytest.mark.parametrize("position", [0, 1, 2], ids=["m", "k", "n"])
@pytest.mark.parametrize("bad", BAD_SIZES, ids=repr)
def test_sizes_that_are_not_positive_integers_are_refused(bad: object, position: int) -> None:
    sizes: list[Any] = [2, 2, 2]
    sizes[position] = bad
    with pytest.raises(SizeError, match="positive integer") as raised:
        derive(*sizes)
    assert isinstance(raised.value, MatgradError)
    assert raised.value.exit_code == 2
    with pytest.raises(SizeError):
        validate_sizes(*sizes)


def _refuse_work(*args: object, **kwargs: object) -> Any:
    raise AssertionError("work started for sizes that should have been refused")


@pytest.mark.parametrize(
    ("engine", "size"),
    [
        ("symengine", (97, 96, 96)),
        ("symengine", (1, 1, 96**3 + 1)),
        ("sympy", (33, 32, 32)),
        ("sympy", (10**6, 10**6, 10**6)),
    ],
    ids=["symengine-97", "symengine-long-n", "sympy-33", "sympy-huge"],
)
def test_sizes_above_the_symbolic_limit_are_refused_before_any_work(
    engine: str, size: tuple[int, int, int]
) -> None:
    with pytest.raises(SizeError, match="symbolic limit") as raised:
        derive(*size, engine=engine, elementwise=_refuse_work, forms=_refuse_work)
    assert str(SYMBOLIC_LIMITS[engine]) in str(raised.value)
    assert raised.value.exit_code == 2


def test_sizes_at_the_symbolic_limit_are_accepted() -> None:
    assert validate_sizes(32, 32, 32, "sympy") == Sizes(32, 32, 32)
    assert validate_sizes(96, 96, 96, "symengine") == Sizes(96, 96, 96)


# --- the two engines agree ------------------------------------------------------------------------


def _linear_forms(derivation: Derivation) -> dict[str, list[list[list[tuple[Any, Any]]]]]:
    """For every gradient of the last layer: per entry, the (output, SymPy factor) terms."""
    layer = derivation.biased if derivation.biased is not None else derivation.plain
    engine: Engine = get_engine(derivation.engine)
    return {
        name: [
            [[(output, engine.to_sympy(factor)) for output, factor in rule.terms] for rule in row]
            for row in gradient.entries
        ]
        for name, gradient in layer.gradients.items()
    }


@pytest.mark.parametrize("bias", [False, True], ids=["no-bias", "bias"])
@pytest.mark.parametrize("size", [(1, 1, 1), (2, 3, 4), (3, 3, 3), (4, 1, 2)], ids=size_id)
def test_symengine_and_sympy_engines_give_the_same_linear_forms(
    size: tuple[int, int, int], bias: bool
) -> None:
    fast = derive(*size, bias=bias, engine="symengine")
    pure = derive(*size, bias=bias, engine="sympy")
    assert fast.engine == "symengine"
    assert pure.engine == "sympy"
    fast_forms, pure_forms = _linear_forms(fast), _linear_forms(pure)
    assert fast_forms.keys() == pure_forms.keys()
    for name in fast_forms:
        for fast_row, pure_row in zip(fast_forms[name], pure_forms[name], strict=True):
            for fast_terms, pure_terms in zip(fast_row, pure_row, strict=True):
                assert [output for output, _ in fast_terms] == [output for output, _ in pure_terms]
                for (_, fast_factor), (_, pure_factor) in zip(fast_terms, pure_terms, strict=True):
                    assert sympy.expand(fast_factor - pure_factor) == 0
    assert [check.holds for check in fast.checks] == [check.holds for check in pure.checks]


def _hand_built_layer(engine_name: str, terms_of: Any) -> tuple[Any, ...]:
    """A 1×1×1 layer whose single a_{1,1} has the terms ``terms_of(z, w, b)``, differentiated by
    the chain rule: the gradients of Z, W and b."""
    engine = get_engine(engine_name)
    sizes = Sizes(1, 1, 1)
    symbols = build_symbols(sizes, engine)
    z, w, b = symbols.input[0][0], symbols.weights[0][0], symbols.bias[0]
    outputs = ((OutputEntry((1, 1), tuple(terms_of(z, w, b)), engine.add),),)
    gradients = elementwise_gradients(
        outputs, symbols, sizes, True, Differentiator(engine, symbols), engine
    )
    return tuple(gradients[name].entries[0][0].terms for name in ("Z", "W", "b"))


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_a_symbol_in_two_terms_of_one_entry_has_its_partials_added(engine: str) -> None:
    # a = z·w + z·b + b: ∂a/∂z = w + b, ∂a/∂w = z, ∂a/∂b = z + 1.
    z_terms, w_terms, b_terms = _hand_built_layer(engine, lambda z, w, b: (z * w, z * b, b))
    upstream = sympy.Symbol("G")
    values = [
        sympy.expand(sum(upstream * get_engine(engine).to_sympy(factor) for _, factor in terms))
        for terms in (z_terms, w_terms, b_terms)
    ]
    z, w, b = sympy.symbols("z_1_1 w_1_1 b_1")
    assert values == [sympy.expand(upstream * x) for x in (w + b, z, z + 1)]
    assert [len(terms) for terms in (z_terms, w_terms, b_terms)] == [1, 1, 1]


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_partials_that_cancel_within_an_entry_are_dropped(engine: str) -> None:
    # a = z·w − z·w + b: no term of the chain rule reaches z or w, and b's partial stays.
    z_terms, w_terms, b_terms = _hand_built_layer(engine, lambda z, w, b: (z * w, -(z * w), b))
    assert z_terms == ()
    assert w_terms == ()
    assert [(output, str(factor)) for output, factor in b_terms] == [((1, 1), "1")]


def test_a_derivation_leaves_the_cycle_collector_as_it_found_it() -> None:
    was_enabled = gc.isenabled()
    try:
        gc.enable()
        derivation = derive(8, 8, 8)
        assert gc.isenabled()
        assert gc.get_freeze_count() == 0  # nothing is left frozen
        # The objects made while it was paused were moved to the oldest generation without a
        # scan (a collection of the young generation would have left them in the middle one),
        # so no collection has to go through that backlog again.
        assert any(obj is derivation.plain for obj in gc.get_objects(generation=2))
        assert gc.get_count()[0] < gc.get_threshold()[0]
        gc.disable()
        derive(2, 2, 2)
        assert not gc.isenabled()
        # Objects the program froze itself stay frozen.
        gc.enable()
        gc.freeze()
        frozen = gc.get_freeze_count()
        derive(2, 2, 2)
        assert gc.get_freeze_count() == frozen
        gc.unfreeze()
    finally:
        (gc.enable if was_enabled else gc.disable)()
