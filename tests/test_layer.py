"""The layer as data: the description states SPEC section 1, the checks carry its rules as data,
and the two routes to a gradient never import each other."""

from __future__ import annotations

import grimp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matgrad_cli import derive
from matgrad_cli.core.checks import Check, WithoutBias
from matgrad_cli.core.layer import (
    COLUMNS,
    ROWS,
    BiasBroadcast,
    Factor,
    MatrixProduct,
    Sizes,
    positive_sizes,
)
from matgrad_cli.errors import ArgumentError
from matgrad_cli.present.notation import forward_text

sizes_strategy = st.builds(Sizes, st.integers(1, 40), st.integers(1, 40), st.integers(1, 40))


def test_the_matrices_have_the_shapes_names_and_symbols_of_spec_section_1() -> None:
    sizes = Sizes(2, 3, 4)
    shapes = {name: sizes.shape_of(name) for name in ("Z", "W", "b", "A", "G")}
    assert shapes == {"Z": (2, 3), "W": (3, 4), "b": (1, 4), "A": (2, 4), "G": (2, 4)}
    assert [ROWS.matrix(name).entry for name in ("Z", "W", "b", "A")] == ["z", "w", "b", "a"]
    assert ROWS.matrix("Z").indices == ("i", "r")
    assert ROWS.matrix("W").indices == ("r", "j")
    assert ROWS.matrix("b").indices == ("j",)
    # Every index is written with its comma: z_1_11 and z_11_1 are different symbols.
    assert ROWS.matrix("Z").symbol_name(1, 11) == "z_1_11"
    assert ROWS.matrix("Z").symbol_name(11, 1) == "z_11_1"
    assert ROWS.matrix("b").symbol_name(1, 3) == "b_3"
    assert ROWS.role("upstream").symbol_name(2, 1) == "dA_2_1"
    with pytest.raises(KeyError):
        ROWS.matrix("X")


def test_the_operations_and_convention_are_those_of_the_layer() -> None:
    assert ROWS.operations == (MatrixProduct("Z", "W", "A"), BiasBroadcast("1", "b", "A"))
    assert ROWS.samples == "rows"
    # The forward pass as every view writes it is read off these operations.
    assert forward_text(bias=True, broadcast="{ones}_{rows} {bias}") == "A = ZW + 1_m b"
    assert forward_text(bias=False) == "A = ZW"
    assert ROWS.variables(bias=True) == ("Z", "W", "b")
    assert ROWS.variables(bias=False) == ("Z", "W")


def test_the_backward_rules_are_factors_and_read_as_the_identities() -> None:
    assert ROWS.rule("Z").factors == (Factor("G"), Factor("W", transposed=True))
    assert ROWS.rule("W").factors == (Factor("Z", transposed=True), Factor("G"))
    assert ROWS.rule("b").factors == (Factor("1", transposed=True), Factor("G"))
    assert [rule.identity for rule in ROWS.backward] == [
        "∂L/∂Z = ∂L/∂A · Wᵀ",
        "∂L/∂W = Zᵀ · ∂L/∂A",
        "∂L/∂b = 1ᵀ · ∂L/∂A",
    ]


def test_samples_as_columns_is_the_same_layer_written_as_a_transpose() -> None:
    sizes = Sizes(2, 3, 4, "columns")
    shapes = {name: sizes.shape_of(name) for name in ("X", "W", "b", "A", "G")}
    assert shapes == {"X": (3, 2), "W": (4, 3), "b": (4, 1), "A": (4, 2), "G": (4, 2)}
    assert COLUMNS.operations == (
        MatrixProduct("W", "X", "A"),
        BiasBroadcast("1", "b", "A", bias_first=True),
    )
    assert COLUMNS.matrix("X").indices == ("r", "i")
    assert COLUMNS.matrix("b").symbol_name(3, 1) == "b_3"  # a column keeps one index too
    assert [rule.identity for rule in COLUMNS.backward] == [
        "∂L/∂X = Wᵀ · ∂L/∂A",
        "∂L/∂W = ∂L/∂A · Xᵀ",
        "∂L/∂b = ∂L/∂A · 1",
    ]
    assert sizes.layer is COLUMNS
    assert Sizes(2, 3, 4).layer is ROWS
    with pytest.raises(ArgumentError, match="samples must be 'rows' or 'columns'"):
        positive_sizes(2, 3, 4, samples="diagonal")


@given(sizes_strategy, st.sampled_from(["rows", "columns"]))
def test_every_backward_rule_has_the_shape_of_its_variable_in_either_convention(
    sizes: Sizes, samples: str
) -> None:
    sizes = Sizes(sizes.m, sizes.k, sizes.n, "columns" if samples == "columns" else "rows")
    for rule in sizes.layer.backward:
        left, right = (factor.shape(sizes) for factor in rule.factors)
        assert left[1] == right[0]
        assert (left[0], right[1]) == sizes.shape_of(rule.variable)


@given(sizes_strategy)
def test_every_backward_rule_has_the_shape_of_its_variable(sizes: Sizes) -> None:
    for rule in ROWS.backward:
        left, right = (factor.shape(sizes) for factor in rule.factors)
        assert left[1] == right[0] == rule.inner_size(sizes)
        assert (left[0], right[1]) == sizes.shape_of(rule.variable)
    # The chain-rule sum of an entry has n terms for Z, m for W and b.
    assert [rule.inner_size(sizes) for rule in ROWS.backward] == [sizes.n, sizes.m, sizes.m]


def test_every_check_says_what_it_compared_as_data() -> None:
    derivation = derive(2, 3, 2, loss="sum")
    assert derivation.biased is not None
    rules = [check.rule for check in derivation.biased.checks]
    assert rules == [ROWS.rule("Z"), ROWS.rule("W"), ROWS.rule("b")]
    assert all(check.loss is None for check in derivation.biased.checks)
    assert [check.against for check in derivation.extra_checks] == [
        WithoutBias("Z"),
        WithoutBias("W"),
    ]
    assert all(check.unchanged_by_bias and check.rule is None for check in derivation.extra_checks)
    assert derivation.loss is not None
    assert [(check.rule, check.loss) for check in derivation.loss.checks] == [
        (rule, "sum") for rule in ROWS.backward
    ]
    # The plain text is computed from those fields, as the JSON output and the API print it.
    assert derivation.loss.checks[0].identity == "∂L/∂Z = ∂L/∂A · Wᵀ, L = sum"
    assert derivation.extra_checks[1].identity == "∂L/∂W = ∂L/∂W without the bias"


def test_a_check_against_a_written_form_keeps_its_text() -> None:
    check = Check("Z", "G @ W", False, (3, 2), (3, 4), False, 0)
    assert check.rule is None
    assert not check.unchanged_by_bias
    assert check.identity == "∂L/∂Z = G @ W"


def test_the_two_routes_never_import_each_other() -> None:
    graph = grimp.build_graph("matgrad_cli", cache_dir=None)
    routes = ("matgrad_cli.core.elementwise", "matgrad_cli.core.matrix")
    for importer in routes:
        for imported in routes:
            if importer != imported:
                assert not graph.chain_exists(importer=importer, imported=imported)
        # Only the comparison and the orchestration see both.
        assert not graph.chain_exists(importer="matgrad_cli.core.compare", imported=importer)
