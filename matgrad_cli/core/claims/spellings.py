"""The words of the claim language: every spelling of a name, a gradient, a function and a
LaTeX command that the parser accepts, and what each one means.

A student writes ``dW``, ``dL/dW``, ``∂L/∂W``, ``\\frac{\\partial L}{\\partial W}`` or
``\\nabla_W L`` for the same gradient, and ``Z.T``, ``Z^\\top``, ``Z'`` or ``np.transpose(Z)`` for
the same transpose; these tables list the spellings, the lexer (lexer.py) and the parser
(parser.py) read them.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

from ..layer import LAYERS
from .tree import OPERANDS, OUTPUT, UPSTREAM, OperandName, SizeName, Target

#: How ``*``, and sums given an axis by position, are read (``--dialect``).
Dialect: TypeAlias = Literal["numpy", "matlab", "math"]
DIALECTS: tuple[Dialect, ...] = ("numpy", "matlab", "math")

#: The variables a claim may be about, in either naming: ∂L/∂Z (∂L/∂X), ∂L/∂W, ∂L/∂b.
TARGETS: dict[str, Target] = {
    name: name for layer in LAYERS.values() for name in layer.variables(bias=True)
}
VARIABLES: tuple[str, ...] = tuple(TARGETS)
#: Names whose gradient a claim may name: the variables, and the output A (whose ∂L/∂A is G).
GRADIENT_OF: tuple[str, ...] = (*VARIABLES, OUTPUT)
SIZE_NAMES: dict[str, SizeName] = {"m": "m", "k": "k", "n": "n"}


def _gradient_words() -> dict[str, str]:
    """Single words for ∂L/∂V: ``dV``, ``dLdV``, ``dL_dV``, ``grad_V``, ``V_grad``."""
    words: dict[str, str] = {}
    for name in GRADIENT_OF:
        for word in (f"d{name}", f"dLd{name}", f"dL_d{name}", f"grad_{name}", f"{name}_grad"):
            words[word] = name
    return words


#: A word that is a gradient, and the name it is the gradient of (``dW`` → ``W``).
GRADIENT_WORDS = _gradient_words()
#: Words for ∂L/∂A besides the gradient spellings: G, delta (also written δ or \\delta), and
#: the upstream gradient's names in code: dout (as in many course notes) and PyTorch's
#: grad_output.
UPSTREAM_WORDS = frozenset({UPSTREAM, "delta", "dout", "grad_output"})
#: The operands by word.
OPERAND_WORDS: dict[str, OperandName] = {name: name for name in OPERANDS if name != UPSTREAM}
OPERAND_WORDS.update(dict.fromkeys(UPSTREAM_WORDS, UPSTREAM))
#: The letters a run of names written together may be split into: ``ZW`` is Z W, ``GWT``
#: after ``^`` is not, but ``ZW`` and ``Wb`` are.
SPLITTABLE = frozenset(name for name in OPERANDS if len(name) == 1)

#: Library prefixes that may come before a function, with their dots: ``np.sum``,
#: ``torch.nn.functional.softmax``, ``jax.numpy.matmul``.
PREFIX_WORDS = frozenset(
    {"np", "numpy", "torch", "jnp", "jax", "nn", "functional", "F", "scipy", "special", "linalg"}
)

Function: TypeAlias = Literal[
    "matmul", "elementwise", "sum", "mean", "ones", "ones_like", "transpose", "softmax"
]
#: The functions, by every name they go by.
FUNCTIONS: dict[str, Function] = {
    "matmul": "matmul",
    "dot": "matmul",
    "mm": "matmul",
    "multiply": "elementwise",
    "mul": "elementwise",
    "sum": "sum",
    "mean": "mean",
    "ones": "ones",
    "ones_like": "ones_like",
    "transpose": "transpose",
    "t": "transpose",
    "softmax": "softmax",
}
#: Functions written only after a library prefix (``torch.t``), never alone.
PREFIXED_ONLY = frozenset({"t", "mul"})
#: Methods, written after a dot: ``A.dot(B)``, ``X.sum(0)``, ``X.t()``.
METHODS: dict[str, Function] = {
    "dot": "matmul",
    "mm": "matmul",
    "matmul": "matmul",
    "mul": "elementwise",
    "multiply": "elementwise",
    "sum": "sum",
    "mean": "mean",
    "t": "transpose",
    "transpose": "transpose",
    "permute": "transpose",
}
#: Attributes that transpose: ``X.T``, and PyTorch's ``X.mT`` and ``X.H`` (real matrices).
TRANSPOSE_ATTRIBUTES = frozenset({"T", "mT", "H", "mH"})
#: Keyword arguments of sum and mean, and of softmax: the axis, and keeping the dimensions.
AXIS_KEYWORDS = frozenset({"axis", "dim"})
KEEPDIMS_KEYWORDS = frozenset({"keepdims", "keepdim"})
#: Words for true and false after keepdims=.
BOOLEANS = {"True": True, "False": False, "true": True, "false": False}

# --- characters and LaTeX commands ------------------------------------------------------------

#: Characters read as another: the Unicode minus and dashes, the product dots, primes.
CHARACTERS = {
    "−": "-",
    "–": "-",
    "·": "·",
    "⋅": "·",
    "∙": "·",
    "×": "·",
    "\u2299": ".*",  # the circled dot
    "\u2218": ".*",  # the ring operator
    "′": "'",
    "’": "'",
    "ᵀ": "ᵀ",
    "⊤": "ᵀ",
    "∂": "∂",
    "∇": "∇",
}
#: Subscript letters, read as ``_`` and the size: ``1ₘ`` is ``1_m``.
SUBSCRIPTS = {"ₘ": "m", "ₖ": "k", "ₙ": "n"}
#: Characters that are a name on their own.
CHARACTER_NAMES = {"δ": "delta"}
#: Characters that are the column of ones.
ONES_CHARACTERS = frozenset({"𝟏", "𝟙"})
#: ASCII symbols of the grammar.
SYMBOLS = frozenset("+-*@(),=.^'/_{}[];")

#: LaTeX commands read as a symbol or a name.
COMMAND_SYMBOLS = {
    "partial": "∂",
    "nabla": "∇",
    "top": "ᵀ",
    "intercal": "ᵀ",
    "cdot": "·",
    "times": "·",
    "ast": "*",
    "odot": ".*",
    "circ": ".*",
    "frac": "frac",
    "dfrac": "frac",
    "tfrac": "frac",
}
COMMAND_NAMES = {"delta": "delta"}
#: LaTeX commands that only size or space what follows; they are skipped.
COMMAND_SPACING = frozenset(
    {
        "left",
        "right",
        "big",
        "Big",
        "bigg",
        "Bigg",
        "bigl",
        "bigr",
        "Bigl",
        "Bigr",
        "biggl",
        "biggr",
        "quad",
        "qquad",
        "displaystyle",
    }
)
#: One-character spacing commands: ``\\,``, ``\\;``, ``\\!``, ``\\:`` and ``\\ ``.
COMMAND_SPACES = frozenset(",;!: ")
#: Commands that change only the font of what follows: ``\\mathbf{1}`` is the ones vector,
#: ``\\mathbf{W}`` is W, ``\\operatorname{softmax}`` is softmax, ``\\mathsf{T}`` is T.
COMMAND_FONTS = frozenset(
    {
        "mathbf",
        "mathrm",
        "mathsf",
        "mathit",
        "mathbb",
        "mathcal",
        "boldsymbol",
        "bm",
        "operatorname",
        "text",
        "textbf",
        "textrm",
        "mathtt",
    }
)
#: Font commands that make ``1`` the column of ones rather than the number.
COMMAND_BOLD = frozenset({"mathbf", "mathbb", "boldsymbol", "bm", "textbf"})
