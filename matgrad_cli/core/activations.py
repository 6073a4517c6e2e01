"""The activations of a network, one class each: its forward expression and its local derivative.

An activation σ is applied entry by entry, H = σ(A). Each class says three things about it, on
the engine the derivation runs on:

- ``forward(engine, e)``: σ(e), the expression the elementwise route differentiates;
- ``derivative(engine, e)``: σ′(e) as the activation states it, the factor ⊙ σ′(A) of the matrix
  route (sigmoid: σ(1−σ), tanh: 1 − tanh², relu: the step Heaviside(e, 0));
- ``names(engine, e, value, slope)``: for the exact equality test, the subexpressions the two
  routes write for σ(e) and σ′(e), each with what it is named by (see network_compare.py).

``generic``, ``relu`` and ``leaky-relu`` are written as functions the engine does not know: the
engine's chain rule then carries their derivative as the derivative of that function at e, which
for ``generic`` is σ′ itself and for the piecewise linear ones is, by their definition here, the
step (relu′(0) = 0, the value libraries take at the kink). ``sigmoid`` is 1/(1 + exp(−e)) and
``tanh`` the engine's tanh, which the engine differentiates in closed form.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from fractions import Fraction
from typing import Any, ClassVar

from ..errors import InputError
from .engine import Engine

#: The slope of leaky-relu when none is given.
DEFAULT_SLOPE = Fraction(1, 100)
#: The longest a slope may be written: enough for any slope a person means.
SLOPE_CHARACTERS = 60
_SLOPE_TEXT = re.compile(r"[0-9]+/[0-9]+|([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]{1,2})?")


def cas_module(engine: Engine) -> Any:
    """The module of the engine (symengine or sympy), for the functions the protocol lacks."""
    if engine.name == "symengine":
        import symengine

        return symengine
    import sympy

    return sympy


def engine_derivative(engine: Engine, function: Any, e: Any) -> Any:
    """σ′(e) as the engine's own chain rule writes it for a function it does not know: the
    factor Subs(Derivative(σ(ξ), ξ), ξ, e) of ∂σ(e)/∂v for a symbol v of e, or ∂σ(e)/∂e when e
    is a symbol. The same object the engine puts in every derivative of σ(e)."""
    if getattr(e, "is_Symbol", False):
        return engine.diff(function(e), e)
    for symbol in sorted(e.free_symbols, key=str):
        inner = engine.diff(e, symbol)
        if engine.is_zero(inner):
            continue
        whole = engine.diff(function(e), symbol)
        found = _derivative_at(engine, whole, function, e)
        # Divided out only when the engine wrote no such factor (the quotient of a sigmoid's
        # exponentials may stay uncancelled, exp(u − u), and then names nothing).
        return found if found is not None else whole / inner
    raise ValueError(f"{e} is constant: it has no symbol to differentiate by")


def _derivative_at(engine: Engine, expression: Any, function: Any, e: Any) -> Any:
    """The factor of ``expression`` that is ``function``′ at the point ``e``, or None."""
    cas = cas_module(engine)
    for atom in expression.atoms(cas.Subs):
        derivative = atom.expr
        if (
            isinstance(derivative, cas.Derivative)
            and derivative.expr == function(*atom.variables)
            and tuple(atom.point) == (e,)
        ):
            return atom
    return None


def step(engine: Engine, e: Any) -> Any:
    """The step Heaviside(e, 0): 1 for e > 0, 0 for e ≤ 0 (SymPy's Heaviside with H(0) = 0)."""
    cas = cas_module(engine)
    if engine.name == "sympy":
        return cas.Heaviside(e, 0)
    return cas.Function("Heaviside")(e, cas.Integer(0))


class Activation(ABC):
    """An elementwise activation: its name, forward expression and local derivative."""

    name: ClassVar[str]
    #: True when σ and σ′ are closed forms SymPy evaluates at numbers.
    closed_form: ClassVar[bool] = True

    @abstractmethod
    def forward(self, engine: Engine, e: Any) -> Any:
        """σ(e) on the engine."""

    @abstractmethod
    def derivative(self, engine: Engine, e: Any) -> Any:
        """σ′(e) on the engine, as the activation states it."""

    @abstractmethod
    def sympy_function(self, x: Any) -> Any:
        """σ(x) as a SymPy expression, for an independent reference."""

    def names(self, engine: Engine, e: Any, value: Any, slope: Any) -> list[tuple[Any, Any]]:
        """(subexpression, its name) for σ(e) and σ′(e) as the two routes write them: ``value``
        names σ(e) and ``slope`` σ′(e) (fresh symbols); none for the identity."""
        return [(self.forward(engine, e), value), (self.derivative(engine, e), slope)]

    def in_closed_form(self, expression: Any) -> Any:
        """A SymPy ``expression`` with the activation written in closed form: it already is,
        but for the activations the engine knows as functions of its own (Undefined)."""
        return expression

    def exponent_names(self, engine: Engine, e: Any, value: Any) -> list[tuple[Any, Any]]:
        """(term, exp(term) named) for the terms of an exponent the engine may have merged
        (exp(−u)·exp(−v) written exp(−u − v)); none but for the sigmoid."""
        return []

    @property
    def text(self) -> str:
        """How a formula writes the activation's derivative, e.g. ``relu′``."""
        return f"{self.name}′"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(vars(self).items()))))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Undefined(Activation):
    """An activation written as a function the engine does not know, called ``function_name``."""

    function_name: ClassVar[str]

    def function(self, engine: Engine) -> Any:
        return cas_module(engine).Function(self.function_name)

    def forward(self, engine: Engine, e: Any) -> Any:
        return self.function(engine)(e)

    def derivative_value(self, engine: Engine, e: Any) -> Any:
        """σ′(e) in terms of the step (relu, leaky-relu)."""
        return self.derivative(engine, e)

    def in_closed_form(self, expression: Any) -> Any:
        """A SymPy ``expression`` with this activation's function and the derivatives the engine
        wrote of it replaced by their closed forms: relu(e) by Max(0, e) and its derivative by
        Heaviside(e, 0), which is 0 at e = 0. The generic σ has none and is left as it is."""
        import sympy

        from .engine import get_engine

        if not self.closed_form:
            return expression
        function = sympy.Function(self.function_name)
        cas = get_engine("sympy")

        def derivative_of_function(node: Any) -> bool:
            return (
                isinstance(node, sympy.Derivative)
                and getattr(node.expr, "func", None) == function
                and len(node.variables) == 1
            )

        # σ′ at an argument e is written Subs(Derivative(σ(ξ), ξ), ξ, e), or Derivative(σ(a), a)
        # when e is a symbol a: the former first, whole, then the latter.
        at_points = {
            node: self.derivative(cas, node.point[0])
            for node in expression.atoms(sympy.Subs)
            if derivative_of_function(node.expr)
        }
        expression = expression.xreplace(at_points)
        expression = expression.replace(
            derivative_of_function, lambda node: self.derivative(cas, node.expr.args[0])
        )
        return expression.replace(function, self.sympy_function)

    def names(self, engine: Engine, e: Any, value: Any, slope: Any) -> list[tuple[Any, Any]]:
        # The engine writes σ′(e) as the derivative of the unknown function: by the definition
        # of the activation it is derivative(e), which is named with its step (see subclasses).
        return [
            (self.forward(engine, e), value),
            (engine_derivative(engine, self.function(engine), e), slope),
        ]


class Generic(Undefined):
    """An undefined σ: nothing is known of it, and its derivative stays σ′."""

    name = "generic"
    function_name = "sigma"
    closed_form = False

    def derivative(self, engine: Engine, e: Any) -> Any:
        # σ′ is the engine's derivative of the unknown σ, left as it is.
        return engine_derivative(engine, self.function(engine), e)

    def sympy_function(self, x: Any) -> Any:
        import sympy

        return sympy.Function("sigma")(x)

    @property
    def text(self) -> str:
        return "σ′"


class Identity(Activation):
    """σ(e) = e, σ′ = 1: a layer without an activation."""

    name = "identity"

    def forward(self, engine: Engine, e: Any) -> Any:
        return e

    def derivative(self, engine: Engine, e: Any) -> Any:
        return 1

    def sympy_function(self, x: Any) -> Any:
        return x

    def names(self, engine: Engine, e: Any, value: Any, slope: Any) -> list[tuple[Any, Any]]:
        return []


class Relu(Undefined):
    """relu(e) = max(0, e), with relu′(e) = Heaviside(e, 0): 1 for e > 0 and 0 for e ≤ 0.

    relu is not differentiable at 0; matgrad takes relu′(0) = 0, as deep-learning libraries do.
    """

    name = "relu"
    function_name = "relu"
    #: The value matgrad takes for relu′(0).
    derivative_at_zero = 0

    def derivative(self, engine: Engine, e: Any) -> Any:
        return step(engine, e)

    def sympy_function(self, x: Any) -> Any:
        import sympy

        return sympy.Max(0, x)

    def names(self, engine: Engine, e: Any, value: Any, slope: Any) -> list[tuple[Any, Any]]:
        # slope names the step: both the engine's relu′(e) and Heaviside(e, 0) are that step.
        return [*super().names(engine, e, value, slope), (step(engine, e), slope)]


class LeakyRelu(Undefined):
    """leaky-relu(e) = e for e > 0 and α·e for e ≤ 0, with 0 < α < 1 (default 1/100); its
    derivative is α + (1 − α)·Heaviside(e, 0): 1 for e > 0, α for e ≤ 0 (α at the kink, as
    relu′(0) = 0)."""

    name = "leaky-relu"
    function_name = "leaky_relu"

    def __init__(self, slope: Fraction = DEFAULT_SLOPE) -> None:
        self.slope = slope

    def _alpha(self, engine: Engine) -> Any:
        cas = cas_module(engine)
        return cas.Integer(self.slope.numerator) / cas.Integer(self.slope.denominator)

    def derivative(self, engine: Engine, e: Any) -> Any:
        alpha = self._alpha(engine)
        return alpha + (1 - alpha) * step(engine, e)

    def sympy_function(self, x: Any) -> Any:
        import sympy

        return sympy.Max(sympy.Rational(self.slope.numerator, self.slope.denominator) * x, x)

    def names(self, engine: Engine, e: Any, value: Any, slope: Any) -> list[tuple[Any, Any]]:
        # slope names the step; the engine's σ′(e) is α + (1 − α)·step by the definition.
        alpha = self._alpha(engine)
        return [
            (self.forward(engine, e), value),
            (engine_derivative(engine, self.function(engine), e), alpha + (1 - alpha) * slope),
            (step(engine, e), slope),
        ]

    def __repr__(self) -> str:
        return f"LeakyRelu(slope={self.slope})"


class Sigmoid(Activation):
    """σ(e) = 1/(1 + exp(−e)), with σ′ = σ(1 − σ)."""

    name = "sigmoid"

    def forward(self, engine: Engine, e: Any) -> Any:
        return 1 / (1 + engine.exp(-e))

    def derivative(self, engine: Engine, e: Any) -> Any:
        value = self.forward(engine, e)
        return value * (1 - value)

    def sympy_function(self, x: Any) -> Any:
        import sympy

        return 1 / (1 + sympy.exp(-x))

    def names(self, engine: Engine, e: Any, value: Any, slope: Any) -> list[tuple[Any, Any]]:
        # With s = σ(e): 1 + exp(−e) = 1/s and exp(−e) = (1 − s)/s; exp(e) = s/(1 − s). The
        # engine writes σ′ as exp(−e)/(1 + exp(−e))², which these make s(1 − s).
        negative = engine.exp(-e)
        return [
            (self.forward(engine, e), value),
            (1 + negative, 1 / value),
            (negative, (1 - value) / value),
            (engine.exp(e), value / (1 - value)),
        ]

    def exponent_names(self, engine: Engine, e: Any, value: Any) -> list[tuple[Any, Any]]:
        return [(-e, (1 - value) / value), (e, value / (1 - value))]


class Tanh(Activation):
    """tanh, with tanh′ = 1 − tanh²."""

    name = "tanh"

    def forward(self, engine: Engine, e: Any) -> Any:
        return cas_module(engine).tanh(e)

    def derivative(self, engine: Engine, e: Any) -> Any:
        return 1 - self.forward(engine, e) ** 2

    def sympy_function(self, x: Any) -> Any:
        import sympy

        return sympy.tanh(x)

    def names(self, engine: Engine, e: Any, value: Any, slope: Any) -> list[tuple[Any, Any]]:
        return [(self.forward(engine, e), value)]


#: Every activation by its name, in the order they are listed to a person.
ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (Generic, Identity, Relu, LeakyRelu, Sigmoid, Tanh)
}


def activation_named(name: object, slope: object = None) -> Activation:
    """The activation called ``name``; ``slope`` only for leaky-relu (a number 0 < α < 1: an
    int, a Fraction, or a decimal or a/b written as a str). InputError for anything else."""
    choices = ", ".join(ACTIVATIONS)
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise InputError(f"unknown activation {name!r} (choose from {choices})")
    if name != LeakyRelu.name:
        if slope is not None:
            raise InputError(f"a slope is given only with leaky-relu, not with {name}")
        return ACTIVATIONS[name]()
    return LeakyRelu(DEFAULT_SLOPE if slope is None else parse_slope(slope))


def parse_slope(slope: object) -> Fraction:
    """The leaky-relu slope as an exact fraction, 0 < slope < 1; read from a str as a decimal
    or a/b in ASCII digits (never evaluated), from a float by its shortest decimal; else
    InputError."""
    text = str(slope) if isinstance(slope, float | int | Fraction) else slope
    if isinstance(text, str) and len(text) > SLOPE_CHARACTERS:
        raise InputError(
            f"the leaky-relu slope must be written in at most {SLOPE_CHARACTERS} characters, "
            f"got {len(text)}"
        )
    value: Fraction | None = None
    # a/b, or a decimal with at most a two-digit exponent (1e-999999999 would be a huge number).
    written = isinstance(text, str) and _SLOPE_TEXT.fullmatch(text.strip()) is not None
    if written and not isinstance(slope, bool):
        try:
            value = Fraction(str(text).strip())
        except (ValueError, ZeroDivisionError):
            value = None
    if value is None or not 0 < value < 1:
        raise InputError(
            f"the leaky-relu slope must be a number between 0 and 1 (such as 0.01 or 1/100), "
            f"got {slope!r}"
        )
    return value
