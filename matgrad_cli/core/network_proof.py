"""`matgrad prove` for a network: the backpropagation recursion proved for every size by SymPy.

The batch m and every width (k = d₀, d₁, …, n = d_L) are symbols; the entries are indexed symbols
with 1-based indices: x of X, hℓ of Hℓ, wℓ of Wℓ, bℓ of bℓ, aℓ of Aℓ, gℓ for ∂L/∂Aℓ and uℓ for
∂L/∂Hℓ. From the top down, every rule of the recursion (network_matrix.RULES) is an identity of
one layer, derived as the single layer's are (core/proof.py):

1. the definition of what the variable feeds: a⁽ℓ⁾_{p,q} = Σ_s h⁽ℓ⁻¹⁾_{p,s} w⁽ℓ⁾_{s,q} + b⁽ℓ⁾_q
   for Wℓ, bℓ and H₍ℓ₋₁₎, or h⁽ℓ⁾_{p,q} = σ(a⁽ℓ⁾_{p,q}) for Aℓ;
2. its partial derivative by ``sympy.diff``: Kronecker deltas, and for the activation
   δ_{i,p} δ_{j,q} σ′(a⁽ℓ⁾_{p,q}), the entry of the diagonal Jacobian diag(σ′(vec Aℓ));
3. for relu and leaky-relu, σ′ by its definition (the step Heaviside(e, 0));
4. the chain rule through every entry it feeds;
5. each sum a delta collapses, carried out by SymPy, its condition discharged by an index range;
6. the entry of the rule's matrix form (a product, or ∂L/∂Hℓ ⊙ σ′(Aℓ)), computed by SymPy from
   MatrixSymbol objects, and the difference of the two sides simplified to 0.

Lines 1, 3 and 4 are written in; every other line is computed. A step the CAS cannot finish, a
condition left over, shapes that differ, or a difference that is not 0 leaves the identity NOT
proved. A rule is data, so a wrong one (a forgotten σ′, W for Wᵀ …) can be put in and is not
proved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import sympy
from sympy.matrices.expressions.matexpr import MatrixElement

from ..errors import InputError, SizeError
from . import bridge, proof_cas
from .activations import Activation, Identity, LeakyRelu, Undefined, activation_named
from .arguments import flag
from .network import MAX_HIDDEN_LAYERS
from .network_matrix import RULES, BackwardRules, LocalRule, Operand, ProductRule
from .proof import COLLAPSE_LIMIT, Comparison, DeltaSum, ShapeMismatch
from .proof_cas import STEP_SECONDS, CASFailure, StepFailed, guarded

#: What a line of a network proof did (core/proof.py's, and σ′ written by its definition).
NetworkStepKind = Literal[
    "definition", "differentiation", "activation derivative", "chain rule", "sum over",
    "deltas", "matrix product",
]  # fmt: skip

StepDetail = DeltaSum | ShapeMismatch | Comparison | CASFailure | None


@dataclass(frozen=True)
class NetworkStep:
    """One line: what was done, the CAS's result (None when it gave none), what it found, and
    for a "sum over" line the index ``summed``; ``proved`` when the CAS completed it."""

    kind: NetworkStepKind
    expr: Any
    proved: bool
    detail: StepDetail = None
    summed: Any = None


@dataclass(frozen=True)
class NetworkSetting:
    """The symbols for a network of ``depth`` layers: m, the widths d₀ = k, …, d_L = n, and the
    index letters (i, r, j free; p, q, s summed)."""

    depth: int
    m: Any
    widths: tuple[Any, ...]
    i: Any
    r: Any
    j: Any
    p: Any
    q: Any
    s: Any

    def base(self, label: str) -> Any:
        """The indexed symbol ``label`` (x, hℓ, wℓ, bℓ, aℓ, gℓ, uℓ)."""
        return sympy.IndexedBase(label)

    def input_label(self, layer: int) -> str:
        """The entries of H₍ℓ₋₁₎: x for the input."""
        return "x" if layer == 1 else f"h{layer - 1}"

    def shape(self, name: str) -> tuple[Any, Any]:
        """The shape of X, Hℓ, Aℓ, Gℓ (∂L/∂Aℓ), Uℓ (∂L/∂Hℓ), Sℓ (σ′(Aℓ)), Wℓ or bℓ."""
        if name == "X":
            return (self.m, self.widths[0])
        letter, layer = name[0], int(name[1:])
        if letter == "W":
            return (self.widths[layer - 1], self.widths[layer])
        if letter == "b":
            return (sympy.Integer(1), self.widths[layer])
        return (self.m, self.widths[layer])

    def matrix(self, name: str) -> Any:
        """The MatrixSymbol of a matrix of the recursion, shaped as it is."""
        return sympy.MatrixSymbol(name, *self.shape(name))


@cache
def network_setting(depth: int) -> NetworkSetting:
    """The symbols of a network of ``depth`` layers, made once."""
    m = sympy.Symbol("m", integer=True, positive=True)
    names = ["k", *(f"d_{layer}" for layer in range(1, depth)), "n"]
    widths = tuple(sympy.Symbol(name, integer=True, positive=True) for name in names)
    i, r, j, p, q, s = sympy.symbols("i r j p q s", integer=True, positive=True)
    return NetworkSetting(depth, m, widths, i, r, j, p, q, s)


@dataclass(frozen=True)
class NetworkTarget:
    """The identity ∂L/∂``name`` = ``rule_text`` at layer ``layer`` (the layer whose forward
    pass it differentiates): its generic ``entry`` with the free ``indices`` and their ``bounds``,
    and the matrix's ``shape``."""

    name: str
    layer: int
    entry: Any
    indices: tuple[Any, ...]
    bounds: tuple[Any, ...]
    shape: tuple[Any, Any]

    @property
    def ranges(self) -> tuple[tuple[Any, Any], ...]:
        return tuple(zip(self.indices, self.bounds, strict=True))

    @property
    def local(self) -> bool:
        """True for ∂L/∂Aℓ, the activation's identity; False for an affine one."""
        return self.name.startswith("A")


@dataclass(frozen=True)
class NetworkProof:
    """The derivation of one identity of the recursion for symbolic sizes; when not proved, it
    stopped at its one line that is not."""

    target: NetworkTarget
    rule_text: str
    steps: tuple[NetworkStep, ...]
    proved: bool

    @property
    def name(self) -> str:
        return self.target.name

    @property
    def identity(self) -> str:
        """The identity in words, ∂L/∂W2 = H1ᵀ · ∂L/∂A2."""
        return f"∂L/∂{self.name} = {self.rule_text}"


@dataclass(frozen=True)
class NetworkProofReport(bridge.Rendered):
    """The proofs of the recursion from the top down: ∂L/∂A_L (with an output activation), then
    per layer ∂L/∂Wℓ, ∂L/∂bℓ, ∂L/∂H₍ℓ₋₁₎ and ∂L/∂A₍ℓ₋₁₎, down to ∂L/∂X."""

    depth: int
    activation: Activation
    output_activation: Activation
    bias: bool
    proofs: tuple[NetworkProof, ...]

    @property
    def proved(self) -> bool:
        return all(proof.proved for proof in self.proofs)

    def activation_of(self, layer: int) -> Activation:
        """σℓ: the output activation at the last layer, the hidden one below it."""
        return self.output_activation if layer == self.depth else self.activation

    @property
    def setting(self) -> NetworkSetting:
        return network_setting(self.depth)


# --- the activations in SymPy -----------------------------------------------------------------


def activation_value(activation: Activation, e: Any) -> Any:
    """σ(e) as the proof writes it: an undefined function for generic, relu and leaky-relu (σ′
    then stays a derivative, which line 3 writes by the definition), else the closed form."""
    if isinstance(activation, Undefined):
        return sympy.Function(activation.function_name)(e)
    return activation.sympy_function(e)


def activation_slope(activation: Activation, e: Any) -> Any:
    """σ′(e) as the activation states it (activations.py): σ′ itself for generic, the step
    Heaviside(e, 0) for relu, α + (1 − α)·Heaviside(e, 0) for leaky-relu, σ(1 − σ) for the
    sigmoid, 1 − tanh² for tanh, 1 for the identity."""
    if isinstance(activation, Identity):
        return sympy.Integer(1)
    if activation.name == "generic":
        return sympy.Derivative(activation_value(activation, e), e)
    if isinstance(activation, LeakyRelu):
        alpha = sympy.Rational(activation.slope.numerator, activation.slope.denominator)
        return alpha + (1 - alpha) * sympy.Heaviside(e, 0)
    if activation.name == "relu":
        return sympy.Heaviside(e, 0)
    value = activation_value(activation, e)
    return value * (1 - value) if activation.name == "sigmoid" else 1 - value**2


def _by_definition(expr: Any, activation: Activation) -> Any:
    """Every derivative of relu or leaky-relu at an argument replaced by σ′ there, by its
    definition; None when the activation has no such definition (its σ′ is computed)."""
    if not isinstance(activation, Undefined) or activation.name == "generic":
        return None

    def defined(node: Any) -> Any:
        return activation_slope(activation, node.variables[0])

    function = sympy.Function(activation.function_name)
    return expr.replace(
        lambda node: isinstance(node, sympy.Derivative) and isinstance(node.expr, function),
        defined,
    )


# --- one identity ------------------------------------------------------------------------------


def _target(name: str, layer: int, st: NetworkSetting) -> NetworkTarget:
    """The generic entry of ∂L/∂``name``: h⁽ℓ⁻¹⁾_{i,r} (x for X), w⁽ℓ⁾_{r,j}, b⁽ℓ⁾_j, a⁽ℓ⁾_{i,j}."""
    i, r, j = st.i, st.r, st.j
    below, width = st.widths[layer - 1], st.widths[layer]
    indices: tuple[Any, ...]
    bounds: tuple[Any, ...]
    if name.startswith("W"):
        indices, bounds = (r, j), (below, width)
    elif name.startswith("b"):
        indices, bounds = (j,), (width,)
    elif name.startswith("A"):
        indices, bounds = (i, j), (st.m, width)
    else:
        indices, bounds = (i, r), (st.m, below)
    label = {"W": f"w{layer}", "b": f"b{layer}", "A": f"a{layer}"}.get(name[0])
    entry = st.base(label or st.input_label(layer))[indices]
    return NetworkTarget(name, layer, entry, indices, bounds, st.shape(name))


def _forward(target: NetworkTarget, st: NetworkSetting, bias: bool, activation: Activation) -> Any:
    """What the variable feeds, by definition: h⁽ℓ⁾_{p,q} = σ(a⁽ℓ⁾_{p,q}), or a⁽ℓ⁾_{p,q}."""
    p, q, s, layer = st.p, st.q, st.s, target.layer
    if target.local:
        return activation_value(activation, st.base(f"a{layer}")[p, q])
    below, weights = st.base(st.input_label(layer)), st.base(f"w{layer}")
    entry = sympy.Sum(below[p, s] * weights[s, q], (s, 1, st.widths[layer - 1]))
    return entry + st.base(f"b{layer}")[q] if bias else entry


def _upstream(target: NetworkTarget, st: NetworkSetting) -> Any:
    """∂L/∂(what the variable feeds): u⁽ℓ⁾ = ∂L/∂Hℓ for Aℓ, g⁽ℓ⁾ = ∂L/∂Aℓ otherwise."""
    return st.base(f"{'u' if target.local else 'g'}{target.layer}")


@dataclass(frozen=True)
class _Context:
    """What every identity of one network shares: its symbols, the bias, each layer's σ, the
    time limit of a CAS step."""

    st: NetworkSetting
    bias: bool
    activation_of: Callable[[int], Activation]
    seconds: float


def derive_identity(
    target: NetworkTarget, claim: Callable[[], Any], context: _Context
) -> Iterator[NetworkStep]:
    """The lines of one proof, in order; the caller stops at the first that is not proved.
    ``claim`` builds the right side as a SymPy matrix expression."""
    st, seconds = context.st, context.seconds
    activation = context.activation_of(target.layer)
    forward = _forward(target, st, context.bias, activation)
    yield NetworkStep("definition", forward, True)
    try:
        derivative = guarded(lambda: sympy.diff(forward, target.entry), "diff", seconds)
    except StepFailed as failure:
        yield NetworkStep("differentiation", None, False, failure.failure)
        return
    yield NetworkStep("differentiation", derivative, True)
    if target.local:
        defined = _by_definition(derivative, activation)
        if defined is not None:
            derivative = defined
            yield NetworkStep("activation derivative", derivative, True)
    p, q = st.p, st.q
    sizes = (st.m, st.widths[target.layer])
    expr = sympy.Sum(_upstream(target, st)[p, q] * derivative, (q, 1, sizes[1]), (p, 1, sizes[0]))
    yield NetworkStep("chain rule", expr, True)
    facts = {
        fact.canonical
        for index, bound in target.ranges
        for fact in (sympy.Le(index, bound), sympy.Ge(index, 1))
    }
    for _ in range(COLLAPSE_LIMIT):
        found = proof_cas.next_delta_sum(expr)
        if found is None:
            break
        step = _sum_out(expr, found, facts, seconds)
        yield step
        if not step.proved:
            return
        expr = step.expr
    if expr.has(sympy.KroneckerDelta, sympy.Piecewise):
        yield NetworkStep("deltas", None, False)
        return
    yield _compare(target, expr, claim, context)


def _sum_out(expr: Any, found: tuple[Any, Any], facts: set[Any], seconds: float) -> NetworkStep:
    """One sum a Kronecker delta collapses, carried out by SymPy, its conditions discharged."""
    index, delta = found
    try:
        summed = guarded(lambda: proof_cas.sum_out(expr, index), "sum", seconds)
    except StepFailed as failure:
        return NetworkStep("sum over", None, False, failure.failure, index)
    resolved, used, left = proof_cas.resolve_conditions(summed, facts)
    value = next(argument for argument in delta.args if argument != index)
    undone = any(
        isinstance(node, sympy.Sum) and index in node.variables
        for node in sympy.preorder_traversal(resolved)
    )
    detail = DeltaSum(delta, value, tuple(used), tuple(left), undone)
    return NetworkStep("sum over", resolved, not (left or undone), detail, index)


def _compare(
    target: NetworkTarget, derived: Any, claim: Callable[[], Any], context: _Context
) -> NetworkStep:
    """The last line: the derived entry against the entry of the rule's matrix form."""
    st, seconds = context.st, context.seconds
    try:
        built = guarded(claim, "build", seconds)
        # A product's shape, or the first factor of an entrywise product whose shape differs.
        factors = built.args if isinstance(built, sympy.HadamardProduct) else (built,)
        shape = next(
            (tuple(f.shape) for f in factors if tuple(f.shape) != target.shape), target.shape
        )
        if shape != target.shape:
            return NetworkStep("matrix product", None, False, ShapeMismatch(shape))
        claimed = guarded(
            lambda: claimed_entry(built, target, st, context.activation_of), "entry", seconds
        )
        gap = guarded(lambda: sympy.simplify(derived - claimed), "difference", seconds)
    except StepFailed as failure:
        return NetworkStep("matrix product", None, False, failure.failure)
    agrees = gap == 0
    return NetworkStep("matrix product", claimed, agrees, Comparison(True, claimed, gap, agrees))


def claimed_entry(
    matrix: Any, target: NetworkTarget, st: NetworkSetting, slopes: Callable[[int], Activation]
) -> Any:
    """The entry of a matrix expression at the target's 1-based indices, computed by SymPy: its
    0-based MatrixElement objects become the indexed entries (Sℓ's the activation's σ′ at
    a⁽ℓ⁾), each sum shifted to run from 1 and named p (over m), q (over dℓ) or s (over d₍ℓ₋₁₎)."""
    if len(target.indices) == 2:
        row, col = target.indices
    else:
        row, col = sympy.Integer(1), target.indices[0]
    element = matrix[row - 1, col - 1]

    def indexed(node: Any) -> Any:
        name = str(node.parent.name)
        i, j = node.i + 1, node.j + 1
        if name == "X":
            return st.base("x")[i, j]
        letter, layer = name[0], int(name[1:])
        if letter == "b":
            return st.base(f"b{layer}")[j]
        if letter == "S":
            return activation_slope(slopes(layer), st.base(f"a{layer}")[i, j])
        label = {"H": "h", "W": "w", "G": "g", "U": "u"}[letter]
        return st.base(f"{label}{layer}")[i, j]

    element = element.replace(lambda node: isinstance(node, MatrixElement), indexed)
    names = {st.m: st.p, st.widths[target.layer]: st.q, st.widths[target.layer - 1]: st.s}

    def one_based(node: Any) -> Any:
        for var, low, high in node.limits:
            if low == 0:
                name = names.get(high + 1)
                node = node.change_index(var, var + 1, None if name in node.free_symbols else name)
        return node

    return element.replace(lambda node: isinstance(node, sympy.Sum), one_based)


# --- the recursion -------------------------------------------------------------------------------


def _operand(operand: Operand, layer: int, st: NetworkSetting) -> Any:
    """A factor of a product rule at ``layer`` as a MatrixSymbol; ValueError for a layer the
    network does not have."""
    at = layer + operand.offset
    if operand.letter == "1":
        size = st.m if operand.along == "samples" else st.widths[layer]
        matrix: Any = sympy.OneMatrix(size, 1)
    else:
        lowest = 1 if operand.letter == "W" else 0
        if not lowest <= at <= st.depth:
            raise ValueError(f"the network has no {operand.letter} at layer {at}")
        name = "X" if operand.letter == "H" and at == 0 else f"{operand.letter}{at}"
        matrix = st.matrix(name)
    return matrix.T if operand.transposed else matrix


def _product(rule: ProductRule, layer: int, st: NetworkSetting) -> Callable[[], Any]:
    """The rule's product at ``layer``, built when called (SymPy refuses unequal inner sizes)."""
    return lambda: _operand(rule.left, layer, st) * _operand(rule.right, layer, st)


def _local(rule: LocalRule, layer: int, below: int, st: NetworkSetting) -> Callable[[], Any]:
    """∂L/∂A at ``below`` = ∂L/∂H there ⊙ σ′(A at ``layer`` + offset), the rule applied from
    ``layer`` (the comparison checks that the shapes agree)."""

    def build() -> Any:
        upstream = st.matrix(f"U{below}")
        if not rule.derivative:
            return upstream
        at = layer + rule.offset
        if not 1 <= at <= st.depth:
            raise ValueError(f"the network has no A at layer {at}")
        return sympy.HadamardProduct(upstream, st.matrix(f"S{at}"))

    return build


def _identities(
    depth: int, bias: bool, output_activated: bool, rules: BackwardRules, st: NetworkSetting
) -> Iterator[tuple[NetworkTarget, str, Callable[[], Any]]]:
    """Each identity of the recursion from the top down: its target, its rule in words, and
    the builder of its matrix form."""
    if output_activated:
        yield (
            _target(f"A{depth}", depth, st),
            rules.output.text(f"∂L/∂H{depth}", depth),
            _local(rules.output, depth, depth, st),
        )
    for layer in range(depth, 0, -1):
        yield (
            _target(f"W{layer}", layer, st),
            rules.weights.text(layer),
            _product(rules.weights, layer, st),
        )
        if bias:
            yield (
                _target(f"b{layer}", layer, st),
                rules.bias.text(layer),
                _product(rules.bias, layer, st),
            )
        below = "X" if layer == 1 else f"H{layer - 1}"
        yield _target(below, layer, st), rules.inputs.text(layer), _product(rules.inputs, layer, st)
        if layer > 1:
            text = rules.local.text(f"∂L/∂H{layer - 1}", layer)
            yield (
                _target(f"A{layer - 1}", layer - 1, st),
                text,
                _local(rules.local, layer, layer - 1, st),
            )


def _depth(hidden: object) -> int:
    """The number of layers from the hidden widths (an int for one hidden layer); only their
    number matters here, the widths are symbols."""
    if isinstance(hidden, int) and not isinstance(hidden, bool):
        hidden = (hidden,)
    if not isinstance(hidden, tuple | list):
        raise InputError(f"hidden must be a sequence of widths such as (4, 3), got {hidden!r}")
    for width in hidden:
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise SizeError(f"hidden widths must be positive integers, got {width!r}")
    if len(hidden) > MAX_HIDDEN_LAYERS:
        raise SizeError(
            f"{len(hidden)} hidden layers is above the limit of {MAX_HIDDEN_LAYERS} hidden layers"
        )
    return len(hidden) + 1


def network_proof_arguments(
    hidden: object,
    *,
    activation: object = "generic",
    output_activation: object = "identity",
    bias: object = True,
    slope: object = None,
) -> tuple[int, Activation, Activation, bool]:
    """The depth, the hidden and output activations and the bias, every argument checked
    before any work (InputError, SizeError)."""
    depth = _depth(hidden)
    checked = flag("bias", bias)
    if slope is not None and "leaky-relu" not in (activation, output_activation):
        raise InputError(
            f"a slope is given only with leaky-relu, not with {activation} and {output_activation}"
        )
    hidden_activation = activation_named(activation, slope if activation == "leaky-relu" else None)
    output = activation_named(
        output_activation, slope if output_activation == "leaky-relu" else None
    )
    return depth, hidden_activation, output, checked


def prove_network(
    hidden: object = (2,),
    *,
    activation: str = "generic",
    output_activation: str = "identity",
    bias: bool = True,
    slope: object = None,
    rules: BackwardRules | None = None,
    step_seconds: float = STEP_SECONDS,
) -> NetworkProofReport:
    """Prove the backward pass of a network with ``len(hidden)`` hidden layers for every m and
    every width, in index notation (the widths given only count the layers); ``rules`` puts
    other rules of the recursion in place of network_matrix.RULES, to show a wrong one
    unproved."""
    depth, hidden_activation, output, bias = network_proof_arguments(
        hidden,
        activation=activation,
        output_activation=output_activation,
        bias=bias,
        slope=slope,
    )
    st = network_setting(depth)

    def activation_of(layer: int) -> Activation:
        return output if layer == depth else hidden_activation

    context = _Context(st, bias, activation_of, step_seconds)
    activated = not isinstance(output, Identity)
    proofs = []
    for target, text, claim in _identities(depth, bias, activated, rules or RULES, st):
        steps: list[NetworkStep] = []
        for step in derive_identity(target, claim, context):
            steps.append(step)
            if not step.proved:
                break
        proofs.append(NetworkProof(target, text, tuple(steps), steps[-1].proved))
    return NetworkProofReport(depth, hidden_activation, output, bias, tuple(proofs))
