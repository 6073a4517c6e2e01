"""How much of a large result is shown, in one place for every format (SPEC section 2).

The verification always covers every entry; these bounds only decide what a reader sees. Each
view elides beyond them with ⋯ ⋮ ⋱ (or "…, the same for the rest"), and ``--full`` lifts them,
up to the size of document FULL_TERMS allows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import SizeError

if TYPE_CHECKING:
    from ..core.loss_base import ConcreteLoss

#: Above this many rows or columns, a matrix is elided on display.
MATRIX_SIDE = 6

#: Above this many terms, a sum shows its first terms, ⋯ and its last term.
SUM_TERMS = 6

#: Above this many entries, the per-entry chain-rule sums are a sample: the first few and the last.
ENTRY_LIST = 8

#: Above this many entries, the forward pass lists a sample of the a_{i,j}.
FORWARD_LIST = 16

#: LaTeX is laid out to fit the narrowest page it is pasted into: the 345 pt text width of a plain
#: article at 10 pt (the numbers below were set by compiling every size and reading the log).
#: A LaTeX matrix whose columns times terms per entry exceed this is listed entry by entry.
MATRIX_WIDTH = 4

#: Most terms a line of a LaTeX sum holds: ∂L/∂a_{p,q} w_{r,q} is about 60 pt wide, and a
#: chain-rule partial ∂L/∂a_{p,q} ∂a_{p,q}/∂z_{i,r} about 70 pt.
LINE_TERMS = 4
PARTIAL_LINE_TERMS = 4

#: Most columns k at which a concrete loss's ∂L/∂z_{1,1} is written out as an example: each of
#: its terms holds a whole entry of A.
EXAMPLE_COLUMNS = 3

#: Most terms a line of the forward pass holds: z_{p,s} w_{s,q} is about 40 pt wide.
FORWARD_LINE_TERMS = 6

#: Most columns of symbols (Z, W and b together) the setup sets side by side on one line.
SETUP_COLUMNS = 9

#: Most lines of one LaTeX display: a longer aligned display is set as several, so that a page
#: may break between them without \\allowdisplaybreaks (one entry's steps stay together).
DISPLAY_LINES = 10

#: Above this many terms, an entry of a vectorised product is elided (the Jacobian view).
VECTOR_TERMS = 4

#: Above this many steps, the shape steps of a claim are elided (the check report).
SHAPE_STEPS = 12

#: Widths on an A4 page of an exercise sheet, in units of one display fraction
#: \\frac{\\partial L}{\\partial a_{i,j}}: a term z_{i,r} ∂L/∂a_{p,q} is 1.5 of them, a line of
#: the page about 12. A gradient whose rows fit SHEET_MATRIX_WIDTH is set as one matrix; else
#: its entries are listed, as many to a line as fit SHEET_LINE_WIDTH (the numbers were set by
#: compiling every size and looking at the pages).
SHEET_MATRIX_WIDTH = 9.0
SHEET_LINE_WIDTH = 12.0

#: Most terms a derivation printed with ``--full`` may hold, per format: the terms of every
#: chain-rule sum and of the forward pass, and every entry of the matrices shown (full_terms).
#: Above it ``matgrad derive --full`` is refused before any work, as the document would take more
#: than about 10 s or 1 GiB to write. Measured at about 200 characters and 20 µs a term in LaTeX
#: and Markdown (2^18 terms, 43³: some 50 MB in 7 s), 40 characters and 250 µs a term in the
#: terminal view (2^15, 21³), and 0.4 ms a term through pdflatex (2^14, 16³). The web page
#: converts its maths to MathML at about 1.2 ms a term (2^12, 10³ in 5 s); a beamer deck is
#: written like LaTeX. JSON lists every entry without ``--full`` and has no limit here.
FULL_TERMS = {
    "latex": 2**18,
    "markdown": 2**18,
    "text": 2**15,
    "pdf": 2**14,
    "html": 2**12,
    "beamer": 2**18,
}


def full_terms(m: int, k: int, n: int, bias: bool) -> int:
    """The terms a derivation printed with ``--full`` holds, from the sizes alone: the forward
    pass has m·n entries of k terms (k + 1 with the bias), ∂L/∂Z m·k entries of n terms, ∂L/∂W
    k·n entries of m terms, ∂L/∂b n entries of m terms; and Z, W, b, A and ∂L/∂A their entries."""
    with_bias = int(bias)
    sums = m * n * (k + with_bias) + m * k * n + k * n * m + with_bias * n * m
    return sums + m * k + k * n + with_bias * n + 2 * m * n


def require_full_fits(m: int, k: int, n: int, bias: bool, output_format: str) -> None:
    """Refuse, with a SizeError, a derivation that ``--full`` would print in ``output_format``
    with more than FULL_TERMS terms; before any work, as the count needs the sizes alone."""
    limit = FULL_TERMS.get(output_format)
    terms = full_terms(m, k, n, bias)
    if limit is not None and terms > limit:
        raise SizeError(
            f"--full at m={m}, k={k}, n={n} would print {terms:,} terms, above the limit of "
            f"{limit:,} for {output_format}; drop --full (large matrices are then elided), use "
            "smaller sizes, or -f json (every entry, without --full)"
        )


#: Most terms the JSON of a derivation under a concrete loss may write: its ``loss_gradients``
#: give ∂L/∂Z, ∂L/∂W and ∂L/∂b written out in the entries of Z, W, b and Y (json_loss_terms).
#: Measured at about 170 µs a term under the squared error (12³: 48,384 terms in 8.5 s) and 50
#: µs under the softmax (6³: 124,416 in 6.5 s); above the limit the JSON would take more than
#: about 10 s, and it is refused before any work.
JSON_LOSS_TERMS = 2**16


def json_loss_terms(m: int, k: int, n: int, loss: ConcreteLoss) -> int:
    """The terms of a concrete loss's ``loss_gradients`` from the sizes: ∂L/∂Z has m·k entries
    of n products and ∂L/∂W k·n entries of m; in each product, ∂L/∂a_{p,q} holds a_{p,q} (k + 2
    terms with the bias and the target) unless it is constant, and under the softmax each of the
    row's n exponentials, each n terms long once differentiated."""
    products = 2 * m * k * n
    if loss.constant_gradient:
        return products
    return products * (k + 2) * (n * n if loss.row_coupled else 1)


def require_json_fits(m: int, k: int, n: int, loss: ConcreteLoss) -> None:
    """Refuse, with a SizeError, JSON under a concrete loss above JSON_LOSS_TERMS terms."""
    terms = json_loss_terms(m, k, n, loss)
    if terms > JSON_LOSS_TERMS:
        raise SizeError(
            f"-f json under --loss {loss.name} writes ∂L/∂Z, ∂L/∂W and ∂L/∂b out in the "
            f"entries of Z, W and b: at m={m}, k={k}, n={n} about {terms:,} terms, above the "
            f"limit of {JSON_LOSS_TERMS:,}; use smaller sizes, another format, or --numeric"
        )


#: Most characters the JSON of a network may hold: every entry of every gradient and of every
#: ∂L/∂Aℓ is written out whole, each factor with the forward pass of the layers it goes through,
#: so that a sigmoid network of four layers 4 wide is already 32 MB. Written at 5 to 20 MB/s
#: (symengine; a two-layer generic network 16 wide is 48 MB in 10 s on a loaded machine); above
#: the limit (64 MiB) ``-f json`` is refused in one line, and nothing is printed.
JSON_NETWORK_CHARS = 2**26


def require_network_json_within(characters: int, what: str) -> None:
    """Refuse, with a SizeError, a network's JSON once it has grown past JSON_NETWORK_CHARS."""
    if characters > JSON_NETWORK_CHARS:
        raise SizeError(
            f"-f json writes every entry of the network's gradients out in full, and for {what} "
            f"that is more than the limit of {JSON_NETWORK_CHARS:,} characters; use smaller sizes "
            "or widths, fewer layers, or another format (large matrices are elided)"
        )


def require_network_full_fits(terms: int, output_format: str) -> None:
    """Refuse, with a SizeError, ``--full`` for a network whose document would print more than
    FULL_TERMS terms in ``output_format``; ``terms`` is its count of chain-rule terms
    (NetworkSizes.work), one per printed term of its sums, known before any work."""
    limit = FULL_TERMS.get(output_format)
    if limit is not None and terms > limit:
        raise SizeError(
            f"--full for this network would print about {terms:,} terms, above the limit of "
            f"{limit:,} for {output_format}; drop --full (large matrices are then elided), use "
            "smaller sizes or widths, or -f json (every entry, without --full)"
        )
