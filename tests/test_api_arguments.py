"""Every bad argument to the Python API raises a documented MatgradError subclass that names it
(docs/api.md, "Errors"), never a TypeError, AttributeError or KeyError from inside; NumPy
integers are sizes like any other integer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import matgrad_cli
from matgrad_cli import MatgradError
from matgrad_cli.errors import ArgumentError, InputError, SizeError

#: The API as a caller without a type checker meets it: any argument goes in.
api: Any = matgrad_cli
Sizes, check, derive, jacobian, prove = api.Sizes, api.check, api.derive, api.jacobian, api.prove


@pytest.fixture(scope="module")
def layer() -> Any:
    return derive(2, 2, 2)


@pytest.fixture(scope="module")
def report() -> Any:
    return check("dW = Z.T @ G")


BAD_CALLS: dict[str, tuple[Callable[..., object], type[MatgradError], str]] = {
    "derive size str": (
        lambda: derive("2", 2, 2),
        SizeError,
        "size m must be a positive integer, got '2'",
    ),
    "derive size float": (
        lambda: derive(2, 2.0, 2),
        SizeError,
        "size k must be a positive integer, got 2.0",
    ),
    "derive size bool": (
        lambda: derive(2, 2, True),
        SizeError,
        "size n must be a positive integer, got True",
    ),
    "derive size numpy float": (lambda: derive(np.float64(2), 2, 2), SizeError, "size m must be"),
    "derive size numpy bool": (lambda: derive(np.True_, 2, 2), SizeError, "size m must be"),
    "derive size 0 numpy": (
        lambda: derive(np.int64(0), 2, 2),
        SizeError,
        "size m must be a positive integer, got 0",
    ),
    "derive bias": (
        lambda: derive(bias="yes"),
        ArgumentError,
        "bias must be True or False, got 'yes'",
    ),
    "derive bias None": (
        lambda: derive(bias=None),
        ArgumentError,
        "bias must be True or False, got None",
    ),
    "derive engine": (
        lambda: derive(engine=3),
        ArgumentError,
        "engine must be a str or None, got 3",
    ),
    "derive engine name": (lambda: derive(engine="maple"), InputError, "unknown engine 'maple'"),
    "jacobian engine": (lambda: jacobian(engine=[]), ArgumentError, "engine must be a str or None"),
    "derive loss": (lambda: derive(loss=["sum"]), InputError, "unknown loss ['sum']"),
    "derive progress": (
        lambda: derive(progress=3),
        ArgumentError,
        "progress must be a function or None",
    ),
    "check int": (
        lambda: check(123),
        ArgumentError,
        "claims must be a str or a list of str, got 123",
    ),
    "check None": (lambda: check(None), ArgumentError, "claims must be a str or a list of str"),
    "check bytes": (lambda: check(b"dW = Z.T @ G"), ArgumentError, "claims must be a str"),
    "check list of int": (lambda: check([1, 2]), ArgumentError, "each claim must be a str, got 1"),
    "check sizes tuple": (
        lambda: check("dW = Z.T @ G", sizes=(2, 2, 2)),
        ArgumentError,
        "sizes must be a Sizes(m, k, n) or None",
    ),
    "check sizes str": (
        lambda: check("dW = Z.T @ G", sizes=Sizes("2", 2, 2)),
        SizeError,
        "size m must be",
    ),
    "check loss": (lambda: check("dW = Z.T @ G", loss=5), InputError, "unknown loss 5"),
    "prove bias": (lambda: prove(bias="no"), ArgumentError, "bias must be True or False, got 'no'"),
    "jacobian size": (lambda: jacobian("2", 2, 2), SizeError, "size m must be a positive integer"),
    "jacobian layout": (lambda: jacobian(layout=3), InputError, "unknown layout 3"),
}


@pytest.mark.parametrize("name", list(BAD_CALLS))
def test_a_bad_argument_raises_a_documented_error(name: str) -> None:
    call, kind, message = BAD_CALLS[name]
    with pytest.raises(kind) as raised:
        call()
    assert isinstance(raised.value, MatgradError)
    assert raised.value.exit_code == 2
    assert message in str(raised.value)


BAD_VIEWS: dict[str, tuple[str, dict[str, Any], type[MatgradError], str]] = {
    "standalone str": (
        "to_latex",
        {"standalone": "x"},
        ArgumentError,
        "standalone must be True or False, got 'x'",
    ),
    "full int": ("to_markdown", {"full": 3}, ArgumentError, "full must be True or False, got 3"),
    "full str": ("to_text", {"full": "x"}, ArgumentError, "full must be True or False"),
    "width str": (
        "to_text",
        {"width": "wide"},
        ArgumentError,
        "width must be an integer from 1 to 10000, got 'wide'",
    ),
    "width None": ("to_text", {"width": None}, ArgumentError, "width must be an integer"),
    "width float": ("to_text", {"width": 80.0}, ArgumentError, "width must be an integer"),
    "width 0": (
        "to_text",
        {"width": 0},
        InputError,
        "width must be an integer from 1 to 10000, got 0",
    ),
    "width huge": (
        "to_text",
        {"width": 10**9},
        InputError,
        "width must be an integer from 1 to 10000",
    ),
}


@pytest.mark.parametrize("name", list(BAD_VIEWS))
def test_a_bad_view_option_raises_a_documented_error(name: str, layer: Any, report: Any) -> None:
    method, options, kind, message = BAD_VIEWS[name]
    for result in (layer, report, jacobian(2, 2, 2)):
        if method == "to_latex" or "full" not in options or result is not report:
            with pytest.raises(kind, match=message.replace("(", r"\(").replace(")", r"\)")):
                getattr(result, method)(**options)


def test_a_wrong_type_is_also_a_type_error(layer: Any) -> None:
    with pytest.raises(TypeError):
        derive(bias="yes")
    with pytest.raises(TypeError):
        layer.to_text(width="wide")
    assert issubclass(ArgumentError, InputError)
    assert issubclass(ArgumentError, TypeError)


def test_gradient_matrix_names_its_choices(layer: Any) -> None:
    with pytest.raises(
        InputError, match=r"no gradient with respect to 'Q' \(choose from Z, W, b\)"
    ):
        layer.gradient_matrix("Q")
    with pytest.raises(ArgumentError, match=r"no gradient with respect to 3"):
        layer.gradient_matrix(3)
    with pytest.raises(InputError, match=r"choose from Z, W\)"):
        derive(2, 2, 2, bias=False).gradient_matrix("b")


def test_numpy_integers_are_sizes(layer: Any) -> None:
    sizes = [np.int64(2), np.int32(2), np.uint8(2)]
    assert derive(*sizes).sizes == Sizes(2, 2, 2)
    assert type(derive(*sizes).sizes.m) is int
    assert jacobian(*sizes).sizes == Sizes(2, 2, 2)
    assert check("dW = Z.T @ G", sizes=Sizes(np.int64(2), np.int64(3), np.int64(4))).correct
    assert layer.to_text(width=np.int64(60)) == layer.to_text(width=60)
    assert layer.to_latex(standalone=np.True_) == layer.to_latex(standalone=True)
    assert prove(bias=np.False_).proved


def test_every_documented_error_is_exported_from_errors() -> None:
    import matgrad_cli.errors as errors

    documented = {
        "MatgradError",
        "InputError",
        "ArgumentError",
        "SizeError",
        "AboveSymbolicLimit",
        "OutputError",
        "ClaimSyntaxError",
    }
    assert documented <= set(vars(errors))
    assert matgrad_cli.MatgradError is errors.MatgradError


def test_the_sheets_take_numpy_integers_and_refuse_truthy_flags(tmp_path: Any) -> None:
    from matgrad_cli.cli.exercise import write_sheets
    from matgrad_cli.core.exercise import validate_count, validate_seed

    assert (validate_seed(np.int64(7)), validate_count(np.uint8(3))) == (7, 3)
    with pytest.raises(ArgumentError, match="force must be True or False, got 'yes'"):
        write_sheets(tmp_path / "week3", 7, force="yes")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []
