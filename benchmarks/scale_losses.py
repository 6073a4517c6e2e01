"""The concrete losses in the scale benchmark: sum, squared error and softmax cross-entropy.

scale.py calls ``run_losses``; each measurement runs in a fresh process (this file with
``--worker``), so each peak RSS is that size's own. Measured:

- the full symbolic verification, ``derive(m, k, n, loss=…)`` with the bias (both layers, every
  entry of Z, W and b, the closed form of ∂L/∂A), at the sizes of ``SERIES``, and a cost
  exponent fitted to its times against m·k·n;
- the route it replaced, ``sympy.diff`` of L with the layer substituted for every entry of Z, W
  and b, at the small sizes of ``BASELINE``, and the ratio of the two at each;
- ``check`` latency: the median and the worst of ``CLAIMS`` (right and wrong claims, through
  matgrad_cli.check, as ``matgrad check`` calls it), after one warm-up claim in the process;
- the numeric check (``--numeric``) of each loss at 128 to 1024.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

Row = dict[str, Any]
Size = tuple[int, int, int]

LOSSES = ("sum", "squared-error", "softmax-cross-entropy")
_CUBES: list[Size] = [(8, 8, 8), (16, 16, 16), (32, 32, 32), (48, 48, 48), (64, 64, 64)]
#: The symbolic verification's sizes per loss (a softmax classifier has a few classes).
SERIES: dict[str, list[Size]] = {
    "sum": _CUBES,
    "squared-error": _CUBES,
    "softmax-cross-entropy": [(8, 8, 10), (16, 16, 10), (24, 24, 10), (32, 32, 10), (4, 4, 100)],
}
#: The wall-time targets: (loss, size, seconds).
TARGETS: list[tuple[str, Size, float]] = [
    ("softmax-cross-entropy", (16, 16, 10), 2.0),
    ("softmax-cross-entropy", (32, 32, 10), 10.0),
    ("softmax-cross-entropy", (4, 4, 100), 10.0),
    ("sum", (32, 32, 32), 2.0),
    ("sum", (64, 64, 64), 10.0),
    ("squared-error", (32, 32, 32), 2.0),
    ("squared-error", (64, 64, 64), 10.0),
]
#: Where the replaced route (sympy.diff of the whole L per entry) finishes in seconds.
BASELINE: dict[str, list[Size]] = {
    "sum": [(4, 4, 4), (6, 6, 6)],
    "squared-error": [(4, 4, 4), (6, 6, 6)],
    "softmax-cross-entropy": [(3, 3, 3), (4, 4, 4)],
}
#: Typical claims per loss, and whether each is right.
CLAIMS: dict[str, list[tuple[str, bool]]] = {
    "sum": [
        ("dZ = G @ W.T", True),
        ("dW = Z.T @ G", True),
        ("db = sum(G, axis=0)", True),
        ("dZ = ones(m, n) @ W.T", True),
        ("dW = Z.T @ ones(m, n)", True),
        ("dZ = G @ W", False),
        ("dW = G @ Z.T", False),
        ("db = sum(G, axis=1)", False),
    ],
    "squared-error": [
        ("dZ = (A - Y) @ W.T", True),
        ("dW = Z.T @ (A - Y)", True),
        ("db = sum(A - Y, axis=0)", True),
        ("dW = Z.T @ G", True),
        ("dZ = (Y - A) @ W.T", False),
        ("dW = Z.T @ (A + Y)", False),
        ("dW = 2 * Z.T @ (A - Y)", False),
        ("db = sum(A - Y, axis=1)", False),
    ],
    "softmax-cross-entropy": [
        ("dZ = (softmax(A) - Y) @ W.T", True),
        ("dW = Z.T @ (softmax(A) - Y)", True),
        ("db = sum(softmax(A) - Y, axis=0)", True),
        ("dW = Z.T @ G", True),
        ("dW = Z.T @ softmax(A)", False),
        ("dZ = (softmax(A) - Y) @ W", False),
        ("dW = Z.T @ (Y - softmax(A))", False),
        ("db = sum(softmax(A) - Y, axis=1)", False),
    ],
}
NUMERIC_SIZES = [128, 256, 512, 1024]


# --- Workers: each runs in a fresh process and prints one line of JSON. ---------------------


def peak_rss_mb() -> float:
    """The peak resident set size of this process in MiB (ru_maxrss is in KiB on Linux)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def timed(action: Callable[[], Any]) -> tuple[Any, float]:
    """The value of ``action()`` and the wall time it took."""
    start = time.perf_counter()
    value = action()
    return value, time.perf_counter() - start


def work_derive(loss: str, size: Size) -> Row:
    """The full symbolic verification with the bias, as ``matgrad derive --loss`` runs it (the
    modules it uses imported first, as the baseline's are)."""
    import symengine  # noqa: F401
    import sympy  # noqa: F401

    from matgrad_cli.core.derive import derive

    started = time.process_time()
    derivation, seconds = timed(lambda: derive(*size, bias=True, loss=loss))
    cpu = time.process_time() - started
    if not derivation.verified:
        raise SystemExit(f"{loss} at {size} did not verify")
    return {"seconds": seconds, "cpu_seconds": cpu, "rss_mb": peak_rss_mb()}


def work_baseline(loss: str, size: Size) -> Row:
    """The replaced route: L with A = ZW + 1b substituted, sympy.diff(L, x) for every entry x of
    Z, W and b (no comparison: the differentiation alone)."""
    import sympy

    from matgrad_cli.core.layer import Sizes
    from matgrad_cli.core.losses import concrete_loss, loss_symbols

    def differentiate() -> int:
        symbols = loss_symbols(Sizes(*size))
        output = symbols.input * symbols.weights + sympy.ones(size[0], 1) * symbols.bias
        expression = concrete_loss(loss).expression(symbols.A, symbols.Y)
        composed = expression.xreplace(dict(zip(symbols.A, output, strict=True)))
        entries = [*symbols.input, *symbols.weights, *symbols.bias]
        return len([sympy.diff(composed, entry) for entry in entries])

    entries, seconds = timed(differentiate)
    return {"seconds": seconds, "entries": entries, "rss_mb": peak_rss_mb()}


def work_check(loss: str) -> Row:
    """Each claim of CLAIMS[loss] checked alone through matgrad_cli.check, after a warm-up."""
    from matgrad_cli import check

    check(["dZ = G @ W.T"], loss=loss)  # imports and first-use caches, as a session has them
    seconds: list[float] = []
    for text, right in CLAIMS[loss]:
        start = time.perf_counter()
        report = check([text], loss=loss)
        elapsed = time.perf_counter() - start
        (verdict,) = report.verdicts
        if verdict.correct != right:
            raise SystemExit(f"check {text!r} under {loss}: expected {right}")
        seconds.append(elapsed)
    return {"seconds": seconds, "rss_mb": peak_rss_mb()}


def work_numeric(loss: str, size: Size) -> Row:
    """The numeric check of the biased layer under the loss, its first run in the process."""
    _, import_time = timed(lambda: __import__("numpy"))
    from matgrad_cli.core.numeric import numeric_verify

    result, seconds = timed(lambda: numeric_verify(*size, bias=True, loss=loss))
    if not result.verified:
        raise SystemExit(f"the numeric check of {loss} at {size} did not verify")
    return {"seconds": seconds, "numpy_import": import_time, "rss_mb": peak_rss_mb()}


WORKERS: dict[str, Callable[..., Row]] = {
    "derive": work_derive,
    "baseline": work_baseline,
    "numeric": work_numeric,
}


# --- The driver. ---------------------------------------------------------------------------


def _note(message: str) -> None:
    sys.stderr.write(f"[scale] {message}\n")
    sys.stderr.flush()


def measure(kind: str, loss: str, size: Size | None = None, repeat: int = 1) -> Row:
    """Run a worker ``repeat`` times in fresh processes: the fastest time, the largest RSS."""
    command = [sys.executable, str(Path(__file__).resolve()), kind, loss]
    if size is not None:
        command += [str(value) for value in size]
    rows: list[Row] = []
    for _ in range(repeat):
        _note(f"{kind} --loss {loss}" + (f" {'×'.join(map(str, size))}" if size else ""))
        finished = subprocess.run(command, capture_output=True, text=True, check=False)
        if finished.returncode != 0:
            raise SystemExit(f"{kind} {loss} {size} failed:\n{finished.stderr}")
        rows.append(json.loads(finished.stdout.strip().splitlines()[-1]))
    best = dict(rows[0])
    best["rss_mb"] = max(row["rss_mb"] for row in rows)
    for field in ("seconds", "cpu_seconds"):
        if isinstance(best.get(field), float):
            best[field] = min(row[field] for row in rows)
    return best


def write_docs_section(
    docs: Path, heading: str, intro: str, report: Sequence[str], command: str
) -> None:
    """Put ``report`` in ``docs`` as the section ``heading``: replacing the one there, else before
    ``## How to run`` (which benchmarks/scale.py writes last)."""
    text = docs.read_text(encoding="utf-8")
    lines = [heading, "", intro, "", "```text", *report, "```", ""]
    section = "\n".join([*lines, f"This section was written by `{command}`.", "", ""])
    start = text.find(heading + "\n")
    if start >= 0:
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + section + (text[end + 1 :] if end >= 0 else "")
    else:
        place = text.find("## How to run")
        text = text[:place] + section + text[place:] if place >= 0 else text + "\n" + section
    docs.write_text(text, encoding="utf-8")


def fit_exponent(sizes: Sequence[int], seconds: Sequence[float]) -> float:
    """The slope of the least-squares line through (log size, log time): the cost exponent, with
    the size N of a cube or the volume m·k·n."""
    xs = [math.log(size) for size in sizes]
    ys = [math.log(value) for value in seconds]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def _seconds(value: float) -> str:
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.2f} s"


def _size(size: Size) -> str:
    return "×".join(map(str, size))


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        padded = (cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return [line(header), rule, *(line(row) for row in rows)]


def run_losses(
    repeat: int, numeric_sizes: Sequence[int]
) -> tuple[list[str], list[tuple[str, bool]]]:
    """Every measurement of the concrete losses: the report's Markdown lines and the targets."""
    derived = {
        (loss, size): measure("derive", loss, size, repeat)
        for loss in LOSSES
        for size in SERIES[loss]
    }
    report = _symbolic_section(derived)
    targets = [
        (
            f"{loss} {_size(size)} ≤ {limit:g} s: {_seconds(derived[loss, size]['seconds'])}",
            derived[loss, size]["seconds"] <= limit,
        )
        for loss, size, limit in TARGETS
        if (loss, size) in derived
    ]
    peak = max(row["rss_mb"] for row in derived.values())
    targets.append((f"peak RSS of the concrete losses ≤ 2 GiB: {peak:.0f} MiB", peak <= 2048))
    report += _baseline_section(derived, repeat)
    check_lines, check_targets = _check_section()
    report += check_lines
    targets += check_targets
    report += _numeric_section(numeric_sizes)
    return report, targets


def _symbolic_section(derived: dict[tuple[str, Size], Row]) -> list[str]:
    rows = [
        [
            loss,
            _size(size),
            f"{size[0] * size[1] * size[2]:,}",
            _seconds(row["seconds"]),
            _seconds(row["cpu_seconds"]),
            f"{row['rss_mb']:.0f} MiB",
        ]
        for (loss, size), row in derived.items()
    ]
    lines = [
        "### Concrete losses: symbolic verification (symengine), with the bias",
        "",
        "`derive(m, k, n, loss=…)`: both layers, every entry of Z, W and b exact, and the closed "
        "form of ∂L/∂A. *CPU* is the process's own processor time for it: where other work "
        "shares the machine, the wall time grows and the CPU time much less.",
        "",
        *_table(["loss", "m×k×n", "m·k·n", "derive", "CPU", "peak RSS"], rows),
        "",
    ]
    for loss in LOSSES:
        first = SERIES[loss][0]
        # One shape grown: the cubes, or the softmax at its first number of classes.
        series = [
            (size, derived[loss, size])
            for size in SERIES[loss]
            if size[0] == size[1] and size[2] in (size[0], first[2])
        ]
        if len(series) >= 2:
            slope = fit_exponent(
                [size[0] * size[1] * size[2] for size, _ in series],
                [row["seconds"] for _, row in series],
            )
            lines.append(
                f"- {loss}: time ∝ (m·k·n)^{slope:.2f} over "
                f"{', '.join(_size(size) for size, _ in series)} (least squares of log time on "
                "log m·k·n; the chain rule through A differentiates each of the layer's m·k·n "
                "terms and multiplies it by its ∂ℓ_p/∂a_{p,q}, and the rows' losses are "
                "differentiated m·n times, each derivative of n terms for the softmax)"
            )
    return [*lines, ""]


def _baseline_section(derived: dict[tuple[str, Size], Row], repeat: int) -> list[str]:
    rows = []
    for loss in LOSSES:
        for size in BASELINE[loss]:
            baseline = measure("baseline", loss, size)
            route = derived.get((loss, size)) or measure("derive", loss, size, repeat)
            rows.append(
                [
                    loss,
                    _size(size),
                    _seconds(baseline["seconds"]),
                    _seconds(route["seconds"]),
                    f"{baseline['seconds'] / route['seconds']:,.1f}×",
                ]
            )
    return [
        "### Concrete losses: the replaced route, measured in the same run",
        "",
        "`sympy.diff` of the whole L with the layer substituted, for every entry of Z, W and b "
        "(the differentiation alone, no comparison), against the full verification above.",
        "",
        *_table(["loss", "m×k×n", "sympy.diff per entry", "derive (verified)", "ratio"], rows),
        "",
    ]


def _check_section() -> tuple[list[str], list[tuple[str, bool]]]:
    rows, targets = [], []
    for loss in LOSSES:
        times = measure("check", loss)["seconds"]
        median, worst = statistics.median(times), max(times)
        rows.append([loss, str(len(times)), _seconds(median), _seconds(worst)])
        targets.append((f"check under {loss}: worst claim < 1 s: {_seconds(worst)}", worst < 1.0))
    lines = [
        "### `check` latency per claim (default sizes, right and wrong claims)",
        "",
        "Each claim checked alone through `matgrad_cli.check`, as `matgrad check` calls it, after "
        "one warm-up claim in the same process (imports and first-use caches).",
        "",
        *_table(["loss", "claims", "median", "worst"], rows),
        "",
    ]
    return lines, targets


def _numeric_section(sizes: Sequence[int]) -> list[str]:
    rows = []
    for loss in LOSSES:
        for size in sizes:
            row = measure("numeric", loss, (size, size, size))
            rows.append([loss, str(size), _seconds(row["seconds"]), f"{row['rss_mb']:.0f} MiB"])
    if not rows:
        return []
    return [
        "### Concrete losses: numeric check (`--numeric`), N³ with the bias",
        "",
        "Exact in integers for the sum and the squared error, interval arithmetic with a computed "
        "bound for the softmax; first run in a fresh process (numpy's import apart).",
        "",
        *_table(["loss", "N", "first run", "peak RSS"], rows),
        "",
    ]


def main(argv: Sequence[str]) -> int:
    """``scale_losses.py KIND LOSS [M K N]``: one measurement, printed as JSON."""
    kind, loss, *sizes = argv
    if kind == "check":
        row = work_check(loss)
    else:
        size = (int(sizes[0]), int(sizes[1]), int(sizes[2]))
        row = WORKERS[kind](loss, size)
    sys.stdout.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
