"""The derivation's terminal view, rendered with rich (SPEC sections 2 and 3).

The view follows SPEC section 2, one renderable per section: setup, forward pass, (the loss,)
∂L/∂Z, ∂L/∂W, the bias, the general case in index notation and a summary table. Matrices are
drawn with unicode brackets and elided with ⋯ ⋮ ⋱ beyond the limits of present/limits.py unless
``full`` is set; everything is laid out to fit the console width (80 columns at the default
sizes). Every stated result is read off a Check of the derivation.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.text import Text

from ..core.layer import Variable
from ..core.losses import LossDerivation
from ..core.model import Derivation, LayerDerivation, OutputEntry
from .gradient_text import (
    ENTRY_NAMES,
    Assembled,
    ChainRules,
    CheckVerdict,
    Product,
    check_result,
    find_check,
    general_entry,
)
from .limits import FORWARD_LIST
from .notation import dimensions, elide_terms, pretty_expr, pretty_index, sizes_text
from .terminal import (
    STYLE_GOOD,
    BlockRows,
    Equation,
    Figure,
    Listing,
    Sections,
    Titled,
    blank,
    fails,
    labelled,
    line,
    marked,
    matrix_block,
    matrix_cells,
    more_entries,
    outcome,
    prose,
    render_to_text,
    results_table,
    shown_indices,
    symbol_matrix,
)


@dataclass(frozen=True)
class SetupView:
    """Sizes, the explicit matrices, the product and the convention (SPEC section 1)."""

    derivation: Derivation
    _: KW_ONLY
    full: bool
    title: ClassVar[str] = "Setup"

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        derivation, full = self.derivation, self.full
        sizes, symbols = derivation.sizes, derivation.symbols
        m, k, n = sizes.m, sizes.k, sizes.n
        bias_shape = f", the bias b is 1×n = 1×{n} (a row)" if derivation.bias else ""
        yield prose(
            f"Sizes m = {m}, k = {k}, n = {n}: the input Z is m×k = {m}×{k}, the weights W are "
            f"k×n = {k}×{n}{bias_shape}, and the output A is m×n = {m}×{n}."
        )
        yield blank()
        blocks = [
            labelled("Z = ", symbol_matrix(symbols.Z, full)),
            labelled("W = ", symbol_matrix(symbols.W, full)),
        ]
        if derivation.bias:
            blocks.append(labelled("b = ", symbol_matrix([symbols.b], full)))
        yield BlockRows(blocks)
        yield blank()
        if derivation.bias:
            yield prose(
                f"A = ZW + 1ₘb, where 1ₘ is the column of m = {m} ones: the row b is added to "
                f"every row of ZW, so b_j is added to column j."
            )
        else:
            yield prose("A = ZW (no bias).")
        yield blank()
        yield prose(
            "Gradient (denominator) layout: ∂L/∂X has the shape of X (as in the Matrix "
            "Cookbook, PyTorch and NumPy). Indices are 1-based. g_{i,j} stands for ∂L/∂a_{i,j}, "
            "the upstream gradient G = ∂L/∂A, for any scalar loss L."
        )


@dataclass(frozen=True)
class ForwardView:
    """Every a_{i,j} written out as its sum, in summation order (with b_j when ``bias``)."""

    outputs: tuple[tuple[OutputEntry, ...], ...]
    _: KW_ONLY
    bias: bool
    full: bool
    title: ClassVar[str] = "Forward pass"

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        entries = [entry for row in self.outputs for entry in row]
        if self.bias:
            yield prose("With the bias, every a_{i,j} = Σ_r z_{i,r} w_{r,j} + b_j:")
        else:
            yield prose(
                "Each a_{i,j} is row i of Z times column j of W: a_{i,j} = Σ_r z_{i,r} w_{r,j}."
            )
        lhs_width = cell_len("a" + pretty_index(entries[-1].index))

        def show(number: int) -> list[RenderableType]:
            entry = entries[number]
            terms = elide_terms([pretty_expr(term) for term in entry.terms], self.full)
            return [Equation("  ", "a" + pretty_index(entry.index), terms, lhs_width=lhs_width)]

        yield Listing(len(entries), show, more_entries, full=self.full, limit=FORWARD_LIST)


@dataclass(frozen=True)
class LossView:
    """A concrete loss: L, ∂L/∂A from the CAS and in closed form, and the checks made by
    differentiating L through the whole layer."""

    loss: LossDerivation
    _: KW_ONLY
    full: bool

    @property
    def title(self) -> str:
        """``The loss: squared error``."""
        return f"The loss: {self.loss.definition.title}"

    def _upstream(self) -> list[RenderableType]:
        """∂L/∂a_{i,j} from the CAS, for the shown entries (a softmax's over one denominator)."""
        loss, sizes = self.loss, self.loss.sizes
        upstream = loss.upstream
        if not loss.definition.polynomial:
            import sympy

            upstream = upstream.applyfunc(sympy.together)
        rows = [p for p in shown_indices(sizes.m, self.full) if p is not None]
        cols = [q for q in shown_indices(sizes.n, self.full) if q is not None]
        return [
            line(f"  ∂L/∂a{pretty_index((p + 1, q + 1))} = {pretty_expr(upstream[p, q])}")
            for p in rows
            for q in cols
        ]

    def _closed_form(self) -> Text:
        loss = self.loss
        closed_form = loss.definition.closed_form_text
        if loss.closed_form_holds:
            condition = f" {loss.condition}" if loss.condition else ""
            return Text.assemble(
                ("✓ Verified at every entry: ", STYLE_GOOD),
                f"∂L/∂A = {closed_form}{condition}.",
            )
        return fails(f"∂L/∂A is not {closed_form}.")

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        loss, bias = self.loss, self.loss.bias
        definition = loss.definition
        targets = ", with symbolic targets y_{i,j} (the matrix Y)" if definition.has_targets else ""
        yield prose(f"{definition.text}{targets}.")
        yield prose("Differentiating L with respect to each a_{i,j}:")
        yield from self._upstream()
        yield self._closed_form()
        yield blank()
        yield prose(
            "Through the whole layer: with A = ZW"
            + (" + 1ₘb" if bias else "")
            + " substituted into L, the CAS differentiated L itself with respect to every entry"
            " of " + ("Z, W and b" if bias else "Z and W") + ", and compared the results "
            "with the matrix forms built from ∂L/∂A above:"
        )
        for check in loss.checks:
            yield CheckVerdict(check, full=self.full)
        yield blank()
        yield prose(
            "The chain-rule derivation that follows holds for any loss, this one included: "
            "read g_{i,j} = ∂L/∂a_{i,j} as the entries above."
        )


@dataclass(frozen=True)
class GradientView:
    """∂L/∂Z or ∂L/∂W: chain rule per entry, assembled, the matrix product, the check."""

    derivation: Derivation
    name: Variable
    _: KW_ONLY
    full: bool

    @property
    def title(self) -> str:
        """``∂L/∂Z``."""
        return f"∂L/∂{self.name}"

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        derivation, name, full = self.derivation, self.name, self.full
        layer, symbols = derivation.plain, derivation.symbols
        check = find_check(layer.checks, name)
        entry = general_entry(*ENTRY_NAMES[name])
        yield prose(
            f"By the chain rule, ∂L/∂{entry} = Σ_{{p,q}} g_{{p,q}} ∂a_{{p,q}}/∂{entry}, summed "
            f"over the a_{{p,q}} that {entry} feeds; {derivation.engine} differentiated each "
            f"∂a_{{p,q}}/∂{entry} from the forward pass."
        )
        yield ChainRules(layer.gradients[name], check, full=full)
        yield Assembled(layer.gradients[name], full=full)
        upstream = symbol_matrix(symbols.upstream, full)
        if name == "Z":
            factors = [upstream, symbol_matrix(symbols.W, full, transpose=True)]
            yield Product(layer.products[name], "G Wᵀ", factors, upstream_first=True, full=full)
        else:
            factors = [symbol_matrix(symbols.Z, full, transpose=True), upstream]
            yield Product(layer.products[name], "Zᵀ G", factors, upstream_first=False, full=full)
        yield blank()
        yield CheckVerdict(check, full=full)


@dataclass(frozen=True)
class BiasView:
    """A = ZW + 1ₘb: the forward pass with b, ∂L/∂b, and ∂L/∂Z, ∂L/∂W unchanged."""

    derivation: Derivation
    layer: LayerDerivation
    _: KW_ONLY
    full: bool
    title: ClassVar[str] = "Bias"

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        derivation, layer, full = self.derivation, self.layer, self.full
        sizes, symbols = derivation.sizes, derivation.symbols
        yield prose(
            f"b is a 1×{sizes.n} row vector; 1ₘb stacks m = {sizes.m} copies of it, one per row, "
            f"so b_j is added to every entry of column j of A:"
        )
        ones_b = matrix_cells(sizes.m, sizes.n, lambda i, j: pretty_expr(symbols.b[j]), full)
        yield Figure(labelled("1ₘb = ", matrix_block(ones_b)), 2)
        yield blank()
        yield ForwardView(layer.outputs, bias=True, full=full)
        yield blank()
        check = find_check(layer.checks, "b")
        yield prose(
            f"b_j feeds every a_{{i,j}} in column j, each with ∂a_{{i,j}}/∂b_j = 1 (from "
            f"{derivation.engine}), so ∂L/∂b_j = Σ_i g_{{i,j}}, the column sums of G:"
        )
        yield ChainRules(layer.gradients["b"], check, full=full)
        yield Assembled(layer.gradients["b"], full=full)
        ones = matrix_block(matrix_cells(1, sizes.m, lambda i, j: "1", full))
        factors = [ones, symbol_matrix(symbols.upstream, full)]
        yield Product(layer.products["b"], "1ᵀ G", factors, upstream_first=False, full=full)
        yield blank()
        yield CheckVerdict(check, full=full)
        yield blank()
        yield prose(
            "∂L/∂Z and ∂L/∂W are unchanged by the bias: adding b_j to a_{i,j} changes no "
            "∂a_{p,q}/∂z_{i,r} and no ∂a_{p,q}/∂w_{r,j}."
        )
        for name in ("Z", "W"):
            yield CheckVerdict(find_check(layer.checks, name), ", with the bias too", full=full)
        for extra in derivation.extra_checks:
            yield CheckVerdict(extra, full=full)


@dataclass(frozen=True)
class GeneralView:
    """Index notation for any m, k, n: the textbook argument, stated as such."""

    bias: bool
    title: ClassVar[str] = "The general case: why it holds at every size"

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        bias = self.bias
        yield prose(
            "For any m, k, n, in index notation (textbook reasoning, not machine-checked "
            "here; δ is the Kronecker delta):"
        )
        chains = [
            ["a_{i,j}", "Σ_r z_{i,r} w_{r,j}" + (" + b_j" if bias else "")],
            ["∂a_{p,q}/∂z_{i,r}", "δ_{p,i} w_{r,q}"],
            [
                "∂L/∂z_{i,r}",
                "Σ_{p,q} g_{p,q} δ_{p,i} w_{r,q}",
                "Σ_j g_{i,j} w_{r,j}",
                "(G Wᵀ)_{i,r}",
            ],
            ["∂a_{p,q}/∂w_{r,j}", "z_{p,r} δ_{q,j}"],
            [
                "∂L/∂w_{r,j}",
                "Σ_{p,q} g_{p,q} z_{p,r} δ_{q,j}",
                "Σ_i z_{i,r} g_{i,j}",
                "(Zᵀ G)_{r,j}",
            ],
        ]
        if bias:
            chains += [["∂a_{p,q}/∂b_j", "δ_{q,j}"], ["∂L/∂b_j", "Σ_i g_{i,j}", "(1ᵀ G)_j"]]
        for lhs, *sides in chains:
            yield Equation("  ", lhs, sides, join="=")
        yield blank()
        yield prose(
            "Note: ∂A/∂W is a 4th-order tensor, ∂a_{i,j}/∂w_{r,q} = z_{i,r} δ_{j,q}; it is not "
            "Zᵀ. Zᵀ appears only after contracting it with G."
        )


@dataclass(frozen=True)
class SummaryView:
    """Every check in a table, and the verdict on the whole derivation."""

    derivation: Derivation
    title: ClassVar[str] = "Summary"

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        derivation = self.derivation
        checks = derivation.checks
        rows = [
            (
                check.identity,
                "with bias" if check.bias else "no bias",
                dimensions(check.shape),
                outcome(check_result(check), check.holds),
            )
            for check in checks
        ]
        columns = ("identity", "layer", "shape", "result")
        yield results_table(columns, rows, no_wrap=("layer", "shape"))
        failed = [check for check in checks if not check.holds]
        if derivation.loss is not None and not derivation.loss.closed_form_holds:
            yield marked(False, "∂L/∂A does not match its closed form.")
        if derivation.verified:
            sizes = derivation.sizes
            yield marked(
                True,
                f"{'Both' if len(checks) == 2 else f'All {len(checks)}'} checks hold at every "
                f"entry, at {sizes_text(sizes)}.",
            )
        elif failed:
            verb = "fails" if len(failed) == 1 else "fail"
            yield marked(False, f"{len(failed)} of the {len(checks)} checks {verb}.")


@dataclass(frozen=True)
class DerivationView:
    """The whole derivation as a rich renderable, in the order of SPEC section 2."""

    derivation: Derivation
    _: KW_ONLY
    full: bool = False

    def sections(self) -> list[Titled]:
        """The sections in order; the loss and the bias only when the derivation has them."""
        derivation, full = self.derivation, self.full
        sections: list[Titled] = [
            SetupView(derivation, full=full),
            ForwardView(derivation.plain.outputs, bias=False, full=full),
        ]
        if derivation.loss is not None:
            sections.append(LossView(derivation.loss, full=full))
        sections += [
            GradientView(derivation, "Z", full=full),
            GradientView(derivation, "W", full=full),
        ]
        if derivation.biased is not None:
            sections.append(BiasView(derivation, derivation.biased, full=full))
        sections += [GeneralView(derivation.bias), SummaryView(derivation)]
        return sections

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Sections(self.sections())


def render_text(
    derivation: Derivation, *, width: int = 80, full: bool = False, color: bool = False
) -> str:
    """The text view as a string, laid out for ``width`` columns (ANSI colours if ``color``)."""
    return render_to_text(DerivationView(derivation, full=full), width=width, color=color)
