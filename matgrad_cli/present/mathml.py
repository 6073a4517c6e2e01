"""LaTeX maths as MathML Core, for the HTML printer (html.py).

The conversion is latex2mathml's, a maintained converter of LaTeX maths to MathML: the documents
hold their maths as LaTeX (document.py), and the converter reads the same LaTeX the LaTeX
printer writes, so the two formats cannot say different things. Three things are normalised
first, which the converter does not read: zero-width struts (``\\rule[…]{0pt}{…}``, which only
space the lines of a printed page; the page's style sheet spaces them in a browser),
``\\big\\vert``, written ``\\big|``, and a matrix, made one group so that a script after it
applies to the whole matrix.

What the converter emits beyond MathML Core is drawn by the style sheet of html.py (the box of
``\\boxed``, bold of ``\\mathbf``, the alignment of ``align*`` columns). Each result is checked
before it is used: well-formed XML, no command left unconverted, no error element, and every
script, fraction and limit with its number of parts; a construct the converter cannot take
fails loudly here rather than showing a broken formula.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

from latex2mathml.converter import convert

_MATHML = "http://www.w3.org/1998/Math/MathML"
_NAMESPACE = "{" + _MATHML + "}"
ElementTree.register_namespace("", _MATHML)

#: Layout commands of the LaTeX printer that the converter does not read, and what they become.
_NORMALISED = (
    (re.compile(r"\\rule(?:\[[^\]]*\])?\{0pt\}\{[^}]*\}\s*"), ""),
    (re.compile(r"\\big\\vert(?![A-Za-z])"), r"\\big|"),
    # A matrix is one group, so that a script after it (vec(A) = [ … ]ᵀ) applies to all of it.
    (re.compile(r"\\begin\{bmatrix\}"), r"{\\begin{bmatrix}"),
    (re.compile(r"\\end\{bmatrix\}"), r"\\end{bmatrix}}"),
)

#: The text of an "operator" that is an ordinary symbol in TeX: a name, or ∂.
_ORDINARY = re.compile(r"[A-Za-z]{2,}|∂")

#: The number of children each element of MathML Core with a fixed form has.
_ARITY = {
    "mfrac": 2,
    "msub": 2,
    "msup": 2,
    "msubsup": 3,
    "munder": 2,
    "mover": 2,
    "munderover": 3,
    "mroot": 2,
}


class MathMLError(ValueError):
    """LaTeX maths the converter did not turn into valid MathML."""


def normalised(latex: str) -> str:
    """``latex`` without the layout commands the converter does not read."""
    for pattern, replacement in _NORMALISED:
        latex = pattern.sub(replacement, latex)
    return latex


def _repaired(element: ElementTree.Element) -> None:
    """Fixes of the converter's tree, in place. The formula of a table cell is made one row,
    which the page aligns as a whole at the cell's side. A ``\\displaystyle`` that opens a matrix
    cell comes out as an empty ``<mstyle>`` before the cell's formula, which is moved inside it,
    as in LaTeX the command applies to the rest of its group. A solidus (∂L/∂A) is spaced as the
    ordinary symbol it is in TeX, not as an operator. So are ∂ and an operator's name
    (``\\operatorname``: vec, softmax), which become identifiers, set close to what follows as in
    LaTeX (a name of several letters is upright), and a thin space from an argument that follows
    it without brackets (log x, log softmax)."""
    for node in list(element.iter()):
        parent, children = node, list(node)
        if node.tag == f"{_NAMESPACE}mtd" and len(children) > 1:
            parent = _grouped(node, children)
        for index, child in enumerate(children):
            name = child.tag.removeprefix(_NAMESPACE)
            if name == "mstyle" and len(child) == 0 and child.text is None:
                for rest in children[index + 1 :]:
                    parent.remove(rest)
                    child.append(rest)
                break
            if name == "mo" and child.text == "/":
                child.set("lspace", "0")
                child.set("rspace", "0")
            elif name == "mo" and child.text is not None and _ORDINARY.fullmatch(child.text):
                child.tag = f"{_NAMESPACE}mi"
            following = children[index + 1] if index + 1 < len(children) else None
            if _is_name(child) and following is not None and not _is_operator(following):
                space = ElementTree.Element(f"{_NAMESPACE}mspace", width="0.1667em")
                parent.insert(list(parent).index(child) + 1, space)


def _is_operator(node: ElementTree.Element) -> bool:
    """Whether ``node`` is an operator once repaired (not ∂, not a name)."""
    text = node.text or ""
    return node.tag == f"{_NAMESPACE}mo" and not _ORDINARY.fullmatch(text)


def _is_name(node: ElementTree.Element) -> bool:
    """Whether ``node`` is a function's name (log, softmax), which TeX sets a thin space from
    an argument that follows without brackets."""
    text = node.text or ""
    return node.tag == f"{_NAMESPACE}mi" and len(text) > 1 and text.isalpha()


def _grouped(cell: ElementTree.Element, children: list[ElementTree.Element]) -> ElementTree.Element:
    """The formula of a table cell made one row (returned), which the page aligns as a whole."""
    for child in children:
        cell.remove(child)
    row = ElementTree.SubElement(cell, f"{_NAMESPACE}mrow")
    row.extend(children)
    return row


def _check(element: ElementTree.Element, latex: str) -> None:
    """Raise MathMLError if ``element`` (or any below it) is not what MathML Core can show."""
    for node in element.iter():
        name = node.tag.removeprefix(_NAMESPACE)
        if name == "merror":
            raise MathMLError(f"the converter reported an error in {latex!r}")
        if node.text is not None and "\\" in node.text:
            raise MathMLError(f"{node.text!r} was not converted in {latex!r}")
        expected = _ARITY.get(name)
        if expected is not None and len(node) != expected:
            raise MathMLError(f"<{name}> with {len(node)} parts, not {expected}, in {latex!r}")


def latex_to_mathml(latex: str, *, display: bool) -> str:
    """The ``<math>`` element of ``latex`` (one formula; ``align*`` for aligned lines), a block
    for a display and inline otherwise. MathMLError if the result would not show."""
    try:
        text = convert(normalised(latex), display="block" if display else "inline")
    except Exception as error:  # the converter's own errors share no base class
        raise MathMLError(f"the converter cannot read {latex!r}: {error!r}") from error
    try:
        element = ElementTree.fromstring(text)
    except ElementTree.ParseError as error:
        raise MathMLError(f"the converter wrote malformed MathML for {latex!r}") from error
    _repaired(element)
    _check(element, latex)
    return ElementTree.tostring(element, encoding="unicode")


def plain_text(latex: str) -> str:
    """The characters of ``latex``'s formula in reading order, relations and operators spaced,
    for where a page can hold no markup (its title)."""
    element = ElementTree.fromstring(convert(normalised(latex)))
    words = []
    for node in element.iter():
        text = (node.text or "").strip()
        name = node.tag.removeprefix(_NAMESPACE)
        words.append(f" {text} " if name == "mo" and text in "=+−×≤" and text else text)
    return re.sub(r"\s+", " ", "".join(words)).strip()
