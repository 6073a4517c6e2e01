"""From a result of the mathematics to text: ``render(result, format, **options)`` is the door.

Each kind of result has one builder of a Document, the one model of document.py (``_DOCUMENTS``),
and each format one printer of any Document (``_FORMATS``): a new format is one printer module
plus one line in ``_FORMATS``, a new kind of result one builder plus one line in
``_DOCUMENTS`` (docs/how-it-works.md). JSON and the terminal views are renderings of the data
itself (``_RENDERERS``). Everything is imported on first use, so that the command line pays only
for the format it prints, and ``formats(kind)`` lists its choices without importing any of it.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

#: Each kind of result's document builder: ``builder(result, full=...) -> Document`` (the
#: derivation's also takes ``sections=`` and ``brief=``).
_DOCUMENTS: dict[str, str] = {
    "Derivation": "derivation_doc:derivation_document",
    "CheckReport": "check_doc:check_document",
    "NetworkCheckReport": "network_check_doc:network_check_document",
    "ProofReport": "prove_doc:proof_document",
    "NetworkProofReport": "network_prove_doc:network_proof_document",
    "NetworkDerivation": "network_doc:network_document",
    "JacobianDerivation": "jacobian_doc:build_jacobian_document",
    "NetworkJacobians": "network_jacobian_doc:network_jacobian_document",
    "NumericResult": "numeric_doc:numeric_document",
    "NetworkNumericResult": "numeric_network_doc:numeric_network_document",
    "ProblemSheet": "exercise_doc:problem_document",
    "SolutionSheet": "exercise_solutions:solution_document",
    "NetworkProblemSheet": "network_exercise_doc:problem_document",
    "NetworkSolutionSheet": "network_exercise_doc:solution_document",
}

#: Every format, in the order the command line offers them, with its printer of documents:
#: ``printer(document, **options) -> str``; None for a format rendered from the data of each kind
#: (``_RENDERERS``). A new format of every document is one printer module and one line here.
_FORMATS: dict[str, str | None] = {
    "latex": "latex:latex_text",
    "text": None,
    "markdown": "markdown:markdown_text",
    "html": "html:html_text",
    "beamer": "beamer:beamer_text",
    "json": None,
    "gradescope": None,
}

#: Renderings that are not a printed document: data (JSON) and the plain text of a kind without
#: a terminal view; they take precedence over the printers.
_RENDERERS: dict[tuple[str, str], str] = {
    ("Derivation", "json"): "json:render_json",
    ("CheckReport", "json"): "json:render_json",
    ("CheckReport", "gradescope"): "gradescope:render_gradescope",
    ("NetworkCheckReport", "json"): "network_check_doc:render_network_check_json",
    ("NetworkCheckReport", "gradescope"): "gradescope:render_gradescope",
    ("ProofReport", "json"): "json:render_json",
    ("NetworkProofReport", "json"): "network_prove_doc:render_network_proof_json",
    ("NetworkDerivation", "json"): "network_json:render_network_json",
    ("JacobianDerivation", "json"): "json:render_json",
    ("NetworkJacobians", "json"): "network_jacobian_doc:render_network_jacobian_json",
    ("NumericResult", "json"): "json:render_json",
    ("NumericResult", "text"): "numeric_text:render_numeric_text",
    ("NetworkNumericResult", "json"): "numeric_network_doc:render_numeric_network_json",
    ("NetworkNumericResult", "text"): "numeric_network_text:render_numeric_network_text",
}

#: kind of result → its one-line verdict (``summary``).
_SUMMARIES: dict[str, str] = {
    "Derivation": "summary:derivation_summary",
    "NumericResult": "summary:numeric_summary",
    "NetworkNumericResult": "numeric_network_text:numeric_network_summary",
    "ProofReport": "prove_notation:summary_line",
    "NetworkProofReport": "network_prove_notation:network_summary_line",
    "NetworkDerivation": "network_doc:network_summary",
    "JacobianDerivation": "summary:jacobian_summary",
    "NetworkJacobians": "network_jacobian_doc:network_jacobian_summary",
}

#: kind of result → the rich renderable of its terminal view, which is also its "text" format.
_VIEWS: dict[str, str] = {
    "Derivation": "text:derivation_view",
    "CheckReport": "check_text:CheckView",
    "NetworkCheckReport": "network_check_text:NetworkCheckView",
    "ProofReport": "prove_text:proof_view",
    "NetworkProofReport": "network_prove_doc:network_proof_view",
    "NetworkDerivation": "network_text:network_view",
    "JacobianDerivation": "jacobian_text:jacobian_view",
    "NetworkJacobians": "network_jacobian_doc:network_jacobian_view",
}


def _load(reference: str) -> Callable[..., Any]:
    module, name = reference.split(":")
    loaded: Callable[..., Any] = getattr(import_module(f".{module}", __name__), name)
    return loaded


def formats(kind: str) -> tuple[str, ...]:
    """The formats of the kind of result named ``kind``, in the order of ``_FORMATS``."""
    return tuple(
        fmt
        for fmt, printer in _FORMATS.items()
        if (kind, fmt) in _RENDERERS
        or (fmt == "text" and kind in _VIEWS)
        or (printer is not None and kind in _DOCUMENTS)
    )


def render(result: object, output_format: str, **options: Any) -> str:
    """``result`` as text in ``output_format``; options such as ``standalone``, ``full``,
    ``width`` and ``color`` are those the format's printer (or the terminal view) takes."""
    kind = type(result).__name__
    reference = _RENDERERS.get((kind, output_format))
    if reference is not None:
        return str(_load(reference)(result, **options))
    if output_format == "text" and kind in _VIEWS:
        width, color = options.pop("width", 80), options.pop("color", False)
        view = terminal_view(result, **options)
        return str(_load("terminal:render_to_text")(view, width=width, color=color))
    printer = _FORMATS.get(output_format)
    if kind not in _DOCUMENTS or printer is None:
        raise ValueError(f"no {output_format} rendering of {kind}")
    # What goes into the document (the derivation's ``sections`` and ``brief``), for its builder.
    chosen = {key: options.pop(key) for key in ("sections", "brief") if key in options}
    document = _load(_DOCUMENTS[kind])(result, full=options.pop("full", False), **chosen)
    return str(_load(printer)(document, **options))


def summary(result: object) -> str:
    """The one line that sums up ``result``'s verdict, which the command line writes on stderr."""
    return str(_load(_SUMMARIES[type(result).__name__])(result))


def terminal_view(result: object, **options: Any) -> Any:
    """The rich renderable that prints ``result`` on a console, at its width."""
    reference = _VIEWS.get(type(result).__name__)
    if reference is None:
        raise ValueError(f"no terminal view of {type(result).__name__}")
    return _load(reference)(result, **options)
