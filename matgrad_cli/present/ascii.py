"""The ASCII notation: matgrad's rendered text for a stream that cannot encode its symbols (a
terminal or pipe in the C locale, ``PYTHONIOENCODING=ascii``).

``ascii_notation(text)`` rewrites a whole rendered document: z₁,₂ → z_1,2, ∂ → d, Wᵀ → W^T,
Σ → sum, the brackets of a matrix ⎡ ⎢ ⎣ and ⎤ ⎥ ⎦ → [ and ], │ → |, ✓ → OK, ✗ → FAIL, × → x,
− → -, ⋯ → ..., ⋮ → : and so on (``_SYMBOLS``), keeping the columns of matrices and tables
aligned although many symbols grow. ``ascii_json(text)`` escapes JSON as
``json.dumps(ensure_ascii=True)`` would. ``replace_unencodable`` is the same notation as a
codecs error handler, for whatever else reaches a stream (messages). Nothing raises: a
character without a notation is escaped as ``backslashreplace`` does (\\u2603).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["ascii_json", "ascii_notation", "replace_unencodable", "to_ascii"]

#: Symbols and their ASCII notation; sub- and superscripts are in _SUBSCRIPTS and _SUPERSCRIPTS.
_SYMBOLS: dict[str, str] = {
    # calculus and sums
    "∂": "d",
    **dict.fromkeys("Σ∑", "sum"),
    "∏": "prod",
    "∇": "nabla",
    "∞": "inf",
    "√": "sqrt",
    "δ": "delta",
    "σ": "sigma",
    # operators and relations
    **dict.fromkeys("·⋅∙", "*"),
    "×": "x",
    "⊗": "(x)",
    "⊙": "(.)",
    "÷": "/",
    "−": "-",
    "±": "+/-",
    "∓": "-/+",
    "≈": "~=",
    "≠": "!=",
    "≤": "<=",
    "≥": ">=",
    "≡": "==",
    "→": "->",
    "←": "<-",
    "↦": "|->",
    "⇒": "=>",
    "∈": "in",
    "⊤": "^T",
    "′": "'",
    "″": "''",
    "⁄": "/",
    "⟨": "<",
    "⟩": ">",
    # ellipses
    **dict.fromkeys("…⋯", "..."),
    "⋮": ":",
    "⋱": "\\",
    "⋰": "/",
    # the brackets of matrices, drawn over several lines: each as its top, middle and bottom
    **dict.fromkeys("⎡⎢⎣", "["),
    **dict.fromkeys("⎤⎥⎦", "]"),
    **dict.fromkeys("⎛⎜⎝", "("),
    **dict.fromkeys("⎞⎟⎠", ")"),
    **dict.fromkeys("⎧⎨⎩", "{"),
    **dict.fromkeys("⎫⎬⎭", "}"),
    "⎪": "|",
    # verdicts and marks
    **dict.fromkeys("✓✔", "OK"),
    **dict.fromkeys("✗✘", "FAIL"),
    **dict.fromkeys("✕✖", "x"),
    "•": "*",
    "◦": "o",
    "█": "#",
    "░": ".",
    "▒": ":",
    "▓": "#",
    # punctuation
    "§": "S",
    "–": "-",
    "—": "--",
    **dict.fromkeys("‘’", "'"),
    "‚": ",",
    **dict.fromkeys("“”„", '"'),
    "«": "<<",
    "»": ">>",
    "°": "deg",
    **dict.fromkeys("\u00a0\u2009\u202f", " "),
    **dict.fromkeys("\u200b\ufeff", ""),
}

_SUBSCRIPTS = dict(
    zip("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜᵢⱼᵣᵤᵥ", "0123456789+-=()aeoxhklmnpstijruv", strict=True)
)
_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁱⁿᵀᵗʰʲ", "0123456789+-=()inTthj", strict=True))
_PLAIN = str.maketrans({**_SUBSCRIPTS, **_SUPERSCRIPTS})
#: A group of subscripts, a group of superscripts (but ᵀ), or any other character outside ASCII.
_GROUPS = re.compile(
    "([{0}]+(?:,[{0}]+)*)|([{1}]+(?:,[{1}]+)*)|([^\x00-\x7f])".format(
        "".join(_SUBSCRIPTS), "".join(_SUPERSCRIPTS).replace("ᵀ", "")
    )
)
#: Box drawing (U+2500 to U+257F) and rich's progress bars by the direction of their lines.
_BOXES = range(0x2500, 0x2580)
#: rich's colours and styles: zero width, kept as they are.
_STYLE = re.compile(r"\x1b\[[0-9;]*m")
#: The brackets of matrices drawn over several lines, and the rulers of tables.
_BRACKETS = "⎡⎢⎣⎤⎥⎦⎛⎜⎝⎞⎟⎠│┃"
#: Lines whose columns are aligned: a matrix bracket, or two spaces between words.
_TABULAR = re.compile(f"[{_BRACKETS}]|\\S  +\\S")
_WORD = re.compile(f"[{_BRACKETS}]|[^ {_BRACKETS}]+")


def to_ascii(text: str) -> str:
    """``text`` in the ASCII notation, character by character, without aligning columns."""
    return text if text.isascii() else _translate(text, 0, len(text))


def ascii_notation(text: str) -> str:
    """A rendered document in the ASCII notation, its matrices and tables still aligned: the
    lines of a block of aligned lines are shifted together where a symbol grows."""
    if text.isascii():
        return text
    lines = text.split("\n")
    result: list[str] = []
    start = 0
    while start < len(lines):
        end = start + 1
        if _TABULAR.search(lines[start]):
            while end < len(lines) and _TABULAR.search(lines[end]):
                end += 1
        result += _aligned(lines[start:end])
        start = end
    return "\n".join(result)


def ascii_json(text: str) -> str:
    """JSON text with every character outside ASCII (and DEL) as a ``\\u`` escape (a pair of
    them beyond U+FFFF), as ``json.dumps(..., ensure_ascii=True)`` writes it: the same JSON
    value, since such characters occur only inside strings."""
    return re.sub(r"[^\x00-\x7e]", lambda match: _json_escape(match[0]), text)


def replace_unencodable(error: UnicodeError) -> tuple[str, int]:
    """A codecs error handler (``codecs.register_error``): the characters a stream could not
    encode, in the ASCII notation, read in their context (z₁,₂ → z_1,2, not z_1,_2)."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    return _translate(error.object, error.start, error.end), error.end


def _json_escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def _translate(text: str, start: int, end: int) -> str:
    """``text[start:end]`` in the ASCII notation; the characters around it decide where a
    subscript or superscript group begins and ends."""
    parts: list[str] = []
    done = start
    for match in _GROUPS.finditer(text, start, end):
        parts += (text[done : match.start()], _group(match))
        done = match.end()
    parts.append(text[done:end])
    return "".join(parts)


def _group(match: re.Match[str]) -> str:
    """A character outside ASCII, or a group of subscripts (z₁,₂) or superscripts (x⁻¹): ``_``
    or ``^`` where the group opens, and a space after it where a letter or digit follows
    (1ₘb → 1_m b); each ᵀ is a transpose of its own (Wᵀᵀ → W^T^T)."""
    found = match[0]
    if match.lastindex is None or match.lastindex > 2:
        return "^T" if found == "ᵀ" else _symbol(found)
    table, mark = (_SUBSCRIPTS, "_") if match.lastindex == 1 else (_SUPERSCRIPTS, "^")
    text, start, end = match.string, match.start(), match.end()
    before = text[start - 2 : start] if start >= 2 else text[:start]
    opens = not (before[-1:] in table or (before[-1:] == "," and before[:1] in table))
    after = text[end : end + 2]
    continues = after[:1] in table or (after[:1] == "," and after[1:] in table)
    closes = not continues and after[:1].isascii() and after[:1].isalnum()
    return (mark if opens else "") + found.translate(_PLAIN) + (" " if closes else "")


def _symbol(char: str) -> str:
    """One character outside ASCII: its notation, a box-drawing line, its compatibility
    decomposition, a Greek letter's name, or else an escape."""
    if char in _SYMBOLS:
        return _SYMBOLS[char]
    code = ord(char)
    if code in _BOXES:
        name = unicodedata.name(char, "")
        vertical, horizontal = "VERTICAL" in name, "HORIZONTAL" in name
        return "|" if vertical and not horizontal else "-" if horizontal and not vertical else "+"
    decomposed = unicodedata.normalize("NFKD", char)
    if decomposed != char:
        kept = "".join(part for part in decomposed if not unicodedata.combining(part))
        if kept and kept != char:
            return _translate(kept, 0, len(kept))
    name = unicodedata.name(char, "")
    if name.startswith(("GREEK SMALL LETTER ", "GREEK CAPITAL LETTER ")) and name.count(" ") == 3:
        letter = name.rsplit(" ", 1)[1].lower()
        return letter if "SMALL" in name else letter.capitalize()
    if code <= 0xFF or 0xDC80 <= code <= 0xDCFF:  # 0xDC80…: a byte undecodable in a file name
        return f"\\x{code & 0xFF:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _width(text: str) -> int:
    """The columns ``text`` takes on a terminal: its styles take none."""
    return len(_STYLE.sub("", text)) if "\x1b" in text else len(text)


def _aligned(lines: list[str]) -> list[str]:
    """Lines in the ASCII notation, their columns kept: a word that starts a column (see
    ``_words``) in column x of any line starts in column x + shift(x) in all, shift growing from
    left to right by what the symbols before it grew, once the gaps before it have shrunk to two
    spaces; the other words follow the word before them as they did."""
    words = [_words(line) for line in lines]
    anchors = sorted({column for row in words for column, _, _, anchor in row if anchor})
    shift = 0
    written = [0] * len(lines)  # the columns of each new line so far
    parts: list[list[str]] = [[] for _ in lines]
    following = [0] * len(lines)  # each line's next word
    for column in [*anchors, None]:
        starting = []
        for i, row in enumerate(words):
            while following[i] < len(row) and (column is None or row[following[i]][0] <= column):
                _, word, gap, anchor = row[following[i]]
                if anchor and column is not None:
                    starting.append(i)
                    break
                parts[i].append(" " * gap + word)
                written[i] += gap + _width(word)
                following[i] += 1
        if column is None:
            break
        for i in starting:
            shift = max(shift, written[i] + min(words[i][following[i]][2], 2) - column)
        for i in starting:
            word = words[i][following[i]][1]
            parts[i].append(" " * (column + shift - written[i]) + word)
            written[i] = column + shift + _width(word)
            following[i] += 1
    return [
        "".join(part) + " " * (len(line) - len(line.rstrip(" ")) if line.strip(" ") else len(line))
        for part, line in zip(parts, lines, strict=True)
    ]


def _words(line: str) -> list[tuple[int, str, int, bool]]:
    """The words of a line as (column, word in the ASCII notation, gap, anchor): the column and
    the spaces before it in the original line, and whether it starts a column: the first word,
    a word after two spaces or more, a matrix bracket (a word of its own) and the word after
    one."""
    words: list[tuple[int, str, int, bool]] = []
    ended = 0  # the column where the word before ended
    read = 0  # the characters of the line read so far
    bracket = False
    for match in _WORD.finditer(line):
        column = ended + _width(line[read : match.start()])
        is_bracket = match[0] in _BRACKETS
        gap = column - ended
        anchor = not words or gap >= 2 or bracket or is_bracket
        words.append((column, to_ascii(match[0]), gap, anchor))
        ended, read, bracket = column + _width(match[0]), match.end(), is_bracket
    return words
