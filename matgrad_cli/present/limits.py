"""How much of a large result is shown, in one place for every format (SPEC section 2).

The verification always covers every entry; these bounds only decide what a reader sees. Each
view elides beyond them with ⋯ ⋮ ⋱ (or "…, the same for the rest"), and ``--full`` lifts them.
"""

from __future__ import annotations

#: Above this many rows or columns, a matrix is elided on display.
MATRIX_SIDE = 6

#: Above this many terms, a sum shows its first terms, ⋯ and its last term.
SUM_TERMS = 6

#: Above this many entries, the per-entry chain-rule sums are a sample: the first few and the last.
ENTRY_LIST = 8

#: Above this many entries, the forward pass lists a sample of the a_{i,j}.
FORWARD_LIST = 16

#: A LaTeX matrix whose columns times terms per entry exceed this is listed entry by entry, so
#: that it fits the width of a printed page.
MATRIX_WIDTH = 6

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
