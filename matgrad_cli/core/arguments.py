"""The arguments of the Python API, checked where they come in: every wrong one raises a
MatgradError subclass (errors.py) that says which argument and what it takes, never a TypeError,
AttributeError or KeyError from deep inside. Sizes are checked by layer.positive_sizes."""

from __future__ import annotations

import operator
from collections.abc import Iterable
from typing import Any

from ..errors import ArgumentError, InputError

__all__ = ["claim_texts", "flag", "integer", "optional_callable", "optional_name", "view_options"]

#: The widest text view a caller may ask for: wide enough for any screen, and a bound on the
#: rulers and padding a view draws across its width.
MAX_WIDTH = 10_000


def flag(name: str, value: object) -> bool:
    """A yes-or-no argument: True or False (a NumPy bool too), nothing merely truthy."""
    if isinstance(value, bool):
        return value
    if type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_"):
        return bool(value)
    raise ArgumentError(f"{name} must be True or False, got {value!r}")


def integer(value: object) -> int | None:
    """``value`` as an int if it is an integer (a NumPy integer too, not a bool), else None."""
    if isinstance(value, bool):
        return None
    try:
        return operator.index(value)  # type: ignore[arg-type]  # any object: TypeError if not
    except TypeError:
        return None


def optional_name(name: str, value: object) -> None:
    """Refuse ``value`` unless it is None or a str (an engine's name, say)."""
    if value is not None and not isinstance(value, str):
        raise ArgumentError(f"{name} must be a str or None, got {value!r}")


def optional_callable(name: str, value: object) -> None:
    """Refuse ``value`` unless it is None or can be called."""
    if value is not None and not callable(value):
        raise ArgumentError(f"{name} must be a function or None, got {value!r}")


def claim_texts(claims: object) -> list[str]:
    """The claims of ``check``: one str, or an iterable of str."""
    if isinstance(claims, str):
        return [claims]
    if isinstance(claims, Iterable) and not isinstance(claims, bytes | bytearray):
        texts = list(claims)
        for text in texts:
            if not isinstance(text, str):
                raise ArgumentError(f"each claim must be a str, got {text!r}")
        return texts
    raise ArgumentError(f"claims must be a str or a list of str, got {claims!r}")


def view_options(options: dict[str, Any]) -> dict[str, Any]:
    """The options of ``to_latex``, ``to_markdown`` and ``to_text``: ``standalone``, ``full``
    and ``color`` True or False, ``width`` an integer from 1 to MAX_WIDTH."""
    checked = dict(options)
    for name in ("standalone", "full", "color"):
        if name in checked:
            checked[name] = flag(name, checked[name])
    if "width" in checked:
        width = integer(checked["width"])
        if width is None or not 1 <= width <= MAX_WIDTH:
            error = ArgumentError if width is None else InputError
            raise error(f"width must be an integer from 1 to {MAX_WIDTH}, got {checked['width']!r}")
        checked["width"] = width
    return checked
