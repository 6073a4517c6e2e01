"""The derivation's terminal view, rendered with rich, in the sections of SPEC section 2.

Each gradient's section shows every entry's chain-rule sum, the sums assembled, the matrix
product multiplied out independently, and the verdict read off its Check. Matrices are drawn in
unicode brackets, elided beyond present/limits.py unless ``full``, and everything is laid out to
the console's width (80 columns at the default sizes).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import KW_ONLY, dataclass

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.text import Text

from ..core.checks import MISMATCHES_KEPT, Check
from ..core.layer import Factor, Layer, Variable
from ..core.losses import LossDerivation
from ..core.model import Derivation, Gradient, LayerDerivation, MatrixForm, OutputEntry
from . import layer_words as words
from . import notation as plain
from . import terminal as ui
from .derivation_sections import NOT_BRIEF, sections_of
from .layer_latex import generic_entry, upstream_first
from .limits import FORWARD_LIST


def _find_check(checks: Iterable[Check], variable: str) -> Check | None:
    """The check of ∂L/∂``variable`` among ``checks``, if one was made."""
    return next((check for check in checks if check.variable == variable), None)


def _mismatch_count(check: Check, at_least: str = "at least ") -> str:
    """How many entries differ: the check counts them all, though it keeps only the first
    MISMATCHES_KEPT; a hand-made Check without a count falls back to what it kept."""
    if check.mismatch_count:
        return str(check.mismatch_count)
    kept = len(check.mismatches)
    if kept < MISMATCHES_KEPT or kept == check.entries_checked:
        return str(kept)
    return f"{at_least}{kept}"


def _check_verdict(
    check: Check | None, context: str = "", *, full: bool
) -> Iterator[RenderableType]:
    """The outcome of one check, in words ("verified" only when it holds), and the first
    mismatching entries of a failure, both sides written out."""
    if check is None:
        yield ui.line("? This identity was not checked.", style=ui.STYLE_BAD)
        return
    if check.holds:
        yield ui.verified(check.entries_checked, f"{check.identity}{context}")
        return
    if check.claimed_shape != check.shape:
        detail = (
            f"{check.identity}{context} does not hold: the right side is "
            f"{plain.dimensions(check.claimed_shape)}, ∂L/∂{check.variable} is "
            f"{plain.dimensions(check.shape)}."
        )
    else:
        detail = (
            f"{check.identity}{context} does not hold: the two sides differ at "
            f"{_mismatch_count(check)} of {check.entries_checked} entries."
        )
    yield ui.fails(detail)
    if check.mismatches:
        yield ui.line("  First mismatching entries:")
    for mismatch in check.mismatches:
        row, col = mismatch.index
        where = f"    entry ({row},{col}):  "
        yield ui.Equation(where, "chain rule", plain.expr_terms(mismatch.elementwise, full))
        yield ui.Equation(
            " " * cell_len(where),
            "formula",
            plain.expr_terms(mismatch.claimed, full),
            lhs_width=cell_len("chain rule"),
        )


def _gradient_steps(
    derivation: Derivation, layer: LayerDerivation, name: Variable, *, full: bool, brief: bool
) -> Iterator[RenderableType]:
    """After the prose of a gradient's section: its chain rules, assembled, the product, the
    verdict; ``brief``: one chain rule, assembled, the verdict."""
    check = _find_check(layer.checks, name)
    convention = derivation.sizes.layer
    yield ChainRules(layer.gradients[name], check, full=full, brief=brief, layer=convention)
    yield Assembled(layer.gradients[name], full=full, layer=convention)
    if not brief:
        yield Product(layer.products[name], name, derivation, full=full)
    yield ui.blank()
    yield from _check_verdict(check, full=full)


@dataclass(frozen=True)
class ChainRules:
    """Each entry x of Z, W or b: the a's it feeds and its chain-rule sum, on one line when
    every shown entry fits, else the a's above the sum."""

    gradient: Gradient
    check: Check | None
    _: KW_ONLY
    full: bool
    #: The first entry alone, the others said to follow the same pattern.
    brief: bool = False
    layer: Layer

    def _more(self, count: int, total: int) -> str:
        if self.check is not None and self.check.holds:
            return f"{count} more not shown; all {total} were verified (see below)"
        return f"{count} more not shown; see the check below"

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        full = self.full
        rules = [rule for row in self.gradient.entries for rule in row]
        names: dict[int, str] = {}
        feeds: dict[int, str] = {}
        sums: dict[int, list[str]] = {}
        count = len(rules)
        shown = [number for number in plain.sampled(count, full) if number is not None]
        if self.brief:
            shown = [0]
        for number in shown:
            rule = rules[number]
            names[number] = plain.pretty_entry(rule.variable, rule.index, self.layer)
            outputs = [plain.pretty_entry("A", output, self.layer) for output, _ in rule.terms]
            feeds[number] = (
                f"{names[number]} feeds {', '.join(plain.elide(outputs, full)) or 'nothing'}:"
            )
            sums[number] = plain.elide([plain.product_term(t, True) for t in rule.terms], full)
        feeds_width = max(cell_len(text) for text in feeds.values())
        one_line = all(
            2 + feeds_width + 2 + cell_len(f"∂L/∂{names[number]} = " + " + ".join(sums[number]))
            <= options.max_width
            for number in names
        )
        lhs_width = max(cell_len(f"∂L/∂{name}") for name in names.values())

        def show(number: int) -> list[RenderableType]:
            lhs = f"∂L/∂{names[number]}"
            if one_line:
                padded = feeds[number] + " " * (feeds_width - cell_len(feeds[number]))
                return [ui.Equation(f"  {padded}  ", lhs, sums[number], lhs_width=lhs_width)]
            return [ui.line(f"  {feeds[number]}"), ui.Equation("      ", lhs, sums[number])]

        if self.brief:
            yield from show(0)
            if count > 1:
                rest = "The other entry follows" if count == 2 else f"The other {count - 1} follow"
                yield ui.line(f"  {rest} the same pattern.", style=ui.STYLE_NOTE)
            return
        yield ui.Listing(count, show, lambda more: self._more(more, count), full=full)


@dataclass(frozen=True)
class Assembled:
    """The elementwise results put in the shape of the variable (gradient layout), or, when
    the sums are too wide for that, where each one goes."""

    gradient: Gradient
    _: KW_ONLY
    full: bool
    layer: Layer

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        gradient, full, layer = self.gradient, self.full, self.layer
        name = gradient.variable
        rows, cols = gradient.shape
        yield ui.blank()
        yield ui.prose(f"Assembled in the shape of {name} ({plain.dimensions(gradient.shape)}):")
        label = f"∂L/∂{name} = "

        def sum_of(i: int, j: int) -> str:
            return plain.product_entry(gradient.entries[i][j].terms, True, full)

        sums = ui.labelled(label, ui.matrix_block(ui.matrix_cells(rows, cols, sum_of, full)))
        if 2 + sums.width <= options.max_width:
            yield ui.Figure(sums, 2)
            return

        def name_of(i: int, j: int) -> str:
            return "∂L/∂" + plain.pretty_entry(name, gradient.entries[i][j].index, layer)

        names = ui.labelled(label, ui.matrix_block(ui.matrix_cells(rows, cols, name_of, full)))
        if 2 + names.width <= options.max_width:
            yield ui.Figure(names, 2)
        indices = layer.matrix(name).indices
        where = f"({','.join(indices)})" if len(indices) > 1 else indices[0]
        yield ui.prose(
            f"(the sums are too wide to write in place: entry {where} holds the sum "
            f"∂L/∂{generic_entry(name, layer)} listed above)",
            style=ui.STYLE_NOTE,
            indent=2,
        )


@dataclass(frozen=True)
class Product:
    """The backward rule of ``variable`` with G multiplied out, independently of the chain rule:
    the factors, then the entries, as a matrix when it fits and else entry by entry."""

    form: MatrixForm
    variable: Variable
    derivation: Derivation
    _: KW_ONLY
    full: bool

    def _factor(self, factor: Factor) -> ui.Block:
        """A factor written out: the symbols of Z, W or G, or a row of ones."""
        if self.derivation.sizes.layer.matrix(factor.matrix).role == "ones":
            rows, cols = factor.shape(self.derivation.sizes)
            return ui.matrix_block(ui.matrix_cells(rows, cols, lambda i, j: "1", self.full))
        entries = self.derivation.symbols.rows(factor.matrix)
        return ui.symbol_matrix(entries, self.full, transpose=factor.transposed)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        form, full, width = self.form, self.full, options.max_width
        layer = self.derivation.sizes.layer
        short = plain.product_name(self.variable, layer)
        leads = upstream_first(self.variable, layer)
        rows, cols = form.shape
        yield ui.blank()
        yield ui.prose(f"{form.formula} multiplied out, independently of the chain rule:")
        label = f"{short} = "

        def entry(i: int, j: int) -> str:
            return plain.product_entry(form.entries[i][j], leads, full)

        factors = [self._factor(factor) for factor in layer.rule(self.variable).factors]
        first = ui.labelled(label, ui.beside(*factors, gap=1))
        result = ui.matrix_block(ui.matrix_cells(rows, cols, entry, full))
        together = ui.beside(first, ui.text_block(" = "), result)
        if 2 + together.width <= width:
            yield ui.Figure(together, 2)
            return
        factors_shown = 2 + first.width <= width
        if factors_shown:
            yield ui.Figure(first, 2)
        second = ui.labelled(" " * (cell_len(label) - 2) + "= ", result)
        if 2 + second.width <= width:
            yield ui.Figure(second, 2)
            return
        yield ui.prose("so, entry by entry:" if factors_shown else "entry by entry:", indent=2)

        def entry_label(i: int, j: int) -> str:
            column_bias = cols == 1 and layer.matrix(self.variable).vector  # b, n×1
            index = (j + 1,) if rows == 1 else (i + 1,) if column_bias else (i + 1, j + 1)
            return f"({short})" + plain.pretty_index(index)

        yield ui.entry_listing(form, entry_label, leads, full, indent="    ")


def _setup(derivation: Derivation, full: bool) -> Iterator[RenderableType]:
    """Sizes, the explicit matrices, the product and the convention (SPEC section 1)."""
    sizes, bias, layer = derivation.sizes, derivation.bias, derivation.sizes.layer
    vector, line = words.bias_vector(layer), words.bias_line(layer)
    bias_shape = f", the bias b is {plain.sized_shape('b', sizes)} (a {vector})" if bias else ""
    yield ui.prose(
        f"{plain.layer_sizes(sizes)}{bias_shape}, and the output A is "
        f"{plain.sized_shape('A', sizes)}."
    )
    yield ui.blank()
    yield ui.layer_matrices(derivation.symbols, layer.variables(bias), full)
    yield ui.blank()
    forward = plain.forward_text(bias, layer=layer)
    if bias:
        across = "row" if line == "column" else "column"
        yield ui.prose(
            f"{forward}, where 1ₘ is the column of m = {sizes.m} ones: the {vector} "
            f"b is added to every {across} of {words.product_text(layer)}, so b_j is added to "
            f"{line} j."
        )
    else:
        yield ui.prose(f"{forward} (no bias).")
    if layer.samples == "columns":
        yield ui.prose("Samples are columns: sample i is column i of X and of A.")
    yield ui.blank()
    upstream = generic_entry("A", layer)
    yield ui.prose(
        "Gradient (denominator) layout: ∂L/∂X has the shape of X (as in the Matrix "
        f"Cookbook, PyTorch and NumPy). Indices are 1-based. g{upstream[1:]} stands for "
        f"∂L/∂{upstream}, the upstream gradient G = ∂L/∂A, for any scalar loss L."
    )


def _forward(
    outputs: tuple[tuple[OutputEntry, ...], ...], bias: bool, full: bool, layer: Layer
) -> Iterator[RenderableType]:
    """Every a_{i,j} written out as its sum, in summation order (with b_j when ``bias``)."""
    entries = [entry for row in outputs for entry in row]
    if bias:
        yield ui.prose(f"With the bias, every {words.forward_sum(layer, True)}:")
    else:
        entry = generic_entry("A", layer)
        yield ui.prose(
            f"Each {entry} is {words.product_reading(layer)}: {words.forward_sum(layer, False)}."
        )
    lhs_width = cell_len(plain.pretty_entry("A", entries[-1].index, layer))

    def show(number: int) -> list[RenderableType]:
        entry = entries[number]
        terms = plain.elide([plain.pretty_expr(term) for term in entry.terms], full)
        lhs = plain.pretty_entry("A", entry.index, layer)
        return [ui.Equation("  ", lhs, terms, lhs_width=lhs_width)]

    yield ui.Listing(len(entries), show, full=full, limit=FORWARD_LIST)


def _loss(loss: LossDerivation, full: bool) -> Iterator[RenderableType]:
    """A concrete loss: L, ∂L/∂A in closed form and the check that differentiating L entry by
    entry gives it (the derivatives themselves with ``full``, or when the check fails), and the
    checks made by differentiating L through the whole layer."""
    definition, layer = loss.definition, loss.sizes.layer
    entry = generic_entry("A", layer)
    target = f"y{entry[1:]}"
    targets = f", with symbolic targets {target} (the matrix Y)" if definition.has_targets else ""
    yield ui.prose(f"{definition.text}{targets}.")
    closed_form = definition.closed_form_text
    yield ui.prose(
        f"In closed form, checked against L differentiated with respect to each {entry}:"
    )
    if loss.closed_form_holds:
        condition = f" {loss.condition}" if loss.condition else ""
        yield Text.assemble(
            ("✓ Verified at every entry: ", ui.STYLE_GOOD), f"∂L/∂A = {closed_form}{condition}."
        )
    else:
        yield ui.fails(f"∂L/∂A is not {closed_form}: differentiating L entry by entry gives")
    if full or not loss.closed_form_holds:
        yield from _upstream_entries(loss, full)
    yield ui.blank()
    yield ui.prose(
        f"Through the whole layer, {plain.forward_text(loss.bias, layer=layer)}: every entry θ "
        "of "
        + words.names(layer, loss.bias)
        + " was differentiated by the chain rule through A, ∂L/∂θ = Σ_{p,q} (∂L/∂a_{p,q}) "
        "(∂a_{p,q}/∂θ), with ∂L/∂a_{p,q} the derivative of L and ∂a_{p,q}/∂θ that of the "
        "forward pass, and the results compared with the matrix forms at the same ∂L/∂A:"
    )
    for check in loss.checks:
        yield from _check_verdict(check, full=full)
    yield ui.blank()
    yield ui.prose(
        "The chain-rule derivation that follows holds for any loss, this one included: "
        f"read g{entry[1:]} = ∂L/∂{entry} as the entries of the closed form."
    )


def _upstream_entries(loss: LossDerivation, full: bool) -> Iterator[RenderableType]:
    """∂L/∂a_{i,j} as differentiated, for the shown entries (a softmax's over one denominator)."""
    upstream = loss.upstream
    if not loss.definition.polynomial:
        import sympy

        upstream = upstream.applyfunc(sympy.together)
    rows, cols = loss.sizes.shape_of("A")
    for p in plain.visible(rows, full):
        for q in plain.visible(cols, full):
            if p is not None and q is not None:
                entry = plain.pretty_entry("A", (p + 1, q + 1), loss.sizes.layer)
                yield ui.line(f"  ∂L/∂{entry} = {plain.pretty_expr(upstream[p, q])}")


def _gradient(
    derivation: Derivation, name: Variable, full: bool, brief: bool = False
) -> Iterator[RenderableType]:
    """∂L/∂Z or ∂L/∂W: chain rule per entry, assembled, the matrix product, the check."""
    entry = generic_entry(name, derivation.sizes.layer)
    yield ui.prose(
        f"By the chain rule, ∂L/∂{entry} = Σ_{{p,q}} g_{{p,q}} ∂a_{{p,q}}/∂{entry}, summed "
        f"over the a_{{p,q}} that {entry} feeds, each ∂a_{{p,q}}/∂{entry} differentiated "
        "from the forward pass."
    )
    yield from _gradient_steps(derivation, derivation.plain, name, full=full, brief=brief)


def _bias(
    derivation: Derivation, layer: LayerDerivation, full: bool, brief: bool = False
) -> Iterator[RenderableType]:
    """A = ZW + 1ₘb: the forward pass with b, ∂L/∂b, and ∂L/∂Z, ∂L/∂W unchanged."""
    convention = derivation.sizes.layer
    yield from _broadcast(derivation, full)
    yield ui.blank()
    yield from _forward(layer.outputs, True, full, convention)
    yield ui.blank()
    line, entry = words.bias_line(convention), generic_entry("A", convention)
    yield ui.prose(
        f"b_j feeds every {entry} in {line} j, each with ∂{entry}/∂b_j = 1 (differentiated "
        f"from the forward pass), so ∂L/∂b_j = Σ_i g{entry[1:]}, the {line} sums of G:"
    )
    yield from _gradient_steps(derivation, layer, "b", full=full, brief=brief)
    yield ui.blank()
    unchanged = convention.variables(bias=False)
    yield ui.prose(
        f"∂L/∂{unchanged[0]} and ∂L/∂{unchanged[1]} are unchanged by the bias: adding b_j to "
        f"{entry} changes no "
        + " and no ".join(f"∂a_{{p,q}}/∂{generic_entry(name, convention)}" for name in unchanged)
        + "."
    )
    for name in unchanged:
        yield from _check_verdict(_find_check(layer.checks, name), ", with the bias too", full=full)
    for extra in derivation.extra_checks:
        yield from _check_verdict(extra, full=full)


def _broadcast(derivation: Derivation, full: bool) -> Iterator[RenderableType]:
    """The bias spread over A: 1ₘb, m copies of the row b (samples as rows), or b1ₘᵀ, m copies
    of the column b (samples as columns), written out."""
    sizes, bias = derivation.sizes, derivation.symbols.bias
    layer = sizes.layer
    vector, line = words.bias_vector(layer), words.bias_line(layer)
    rows, cols = sizes.shape_of("A")
    if vector == "row":
        spread, label = "stacks m = {m} copies of it, one per row", "1ₘb"
        cells = ui.matrix_cells(rows, cols, lambda i, j: plain.pretty_expr(bias[j]), full)
    else:
        spread, label = "sets m = {m} copies of it side by side, one per column", "b1ₘᵀ"
        cells = ui.matrix_cells(rows, cols, lambda i, j: plain.pretty_expr(bias[i]), full)
    shape = plain.dimensions(sizes.shape_of("b"))
    yield ui.prose(
        f"b is a {shape} {vector} vector; {label} {spread.format(m=sizes.m)}, "
        f"so b_j is added to every entry of {line} j of A:"
    )
    yield ui.Figure(ui.labelled(f"{label} = ", ui.matrix_block(cells)), 2)


def _general(layer: Layer, bias: bool) -> Iterator[RenderableType]:
    """Index notation for any m, k, n: the textbook argument, stated as such."""
    yield ui.prose(
        "For any m, k, n, in index notation (textbook reasoning, not machine-checked "
        "here; δ is the Kronecker delta):"
    )
    for lhs, *sides in words.general_chains(layer, bias):
        yield ui.Equation("  ", lhs, sides, join="=")
    yield ui.blank()
    tensor, transposed = words.general(layer).tensor[0], words.general(layer).transposed_input
    yield ui.prose(
        f"Note: ∂A/∂W is a 4th-order tensor, {tensor}; it is not "
        f"{transposed}. {transposed} appears only after contracting it with G."
    )


def _summary(derivation: Derivation) -> Iterator[RenderableType]:
    """Every check in a table, and the verdict on the whole derivation."""
    checks = derivation.checks
    rows = []
    for check in checks:
        # ≥ when a hand-made check kept its mismatches without counting them all
        result = ui.summary_result(check, _mismatch_count(check, "≥") if check.mismatches else None)
        layer = "with bias" if check.bias else "no bias"
        rows.append(
            (check.identity, layer, plain.dimensions(check.shape), ui.outcome(result, check.holds))
        )
    columns = ("identity", "layer", "shape", "result")
    yield ui.results_table(columns, rows, no_wrap=("layer", "shape"))
    failed = [check for check in checks if not check.holds]
    if derivation.loss is not None and not derivation.loss.closed_form_holds:
        yield ui.marked(False, "∂L/∂A does not match its closed form.")
    if derivation.verified:
        count = "Both" if len(checks) == 2 else f"All {len(checks)}"
        yield ui.marked(
            True, f"{count} checks hold at every entry, at {plain.sizes_text(derivation.sizes)}."
        )
    elif failed:
        verb = "fails" if len(failed) == 1 else "fail"
        yield ui.marked(False, f"{len(failed)} of the {len(checks)} checks {verb}.")


def derivation_view(
    derivation: Derivation,
    *,
    full: bool = False,
    sections: Sequence[str] | None = None,
    brief: bool = False,
) -> ui.Sections:
    """The derivation as a rich renderable, in the order of SPEC section 2: every section, or
    those named in ``sections`` (SECTIONS); ``brief``: one chain rule per gradient, and no
    general case unless it is named."""
    if sections is None:
        every = sections_of(derivation.sizes.samples)
        sections = [name for name in every if not (brief and name in NOT_BRIEF)]
    chosen = set(sections)
    parts = []
    if "setup" in chosen:
        parts.append(ui.Section("Setup", tuple(_setup(derivation, full))))
    if "forward" in chosen:
        layer = derivation.sizes.layer
        forward = tuple(_forward(derivation.plain.outputs, False, full, layer))
        parts.append(ui.Section("Forward pass", forward))
    if derivation.loss is not None and "loss" in chosen:
        title = f"The loss: {derivation.loss.definition.title}"
        parts.append(ui.Section(title, tuple(_loss(derivation.loss, full))))
    for name in derivation.sizes.layer.variables(bias=False):
        if name in chosen:
            steps = tuple(_gradient(derivation, name, full, brief))
            parts.append(ui.Section(f"∂L/∂{name}", steps))
    if derivation.biased is not None and "b" in chosen:
        parts.append(ui.Section("Bias", tuple(_bias(derivation, derivation.biased, full, brief))))
    if "general" in chosen:
        general = "The general case: why it holds at every size"
        steps = tuple(_general(derivation.sizes.layer, derivation.bias))
        parts.append(ui.Section(general, steps))
    if "summary" in chosen:
        parts.append(ui.Section("Summary", tuple(_summary(derivation))))
    return ui.Sections(parts)
