"""The numeric check of a network: its time and memory above the symbolic limits, per activation.

Each run checks one network (``numeric_verify_network``: the backward recursion at a random draw
against forward-mode partials, every entry within the work budget, a seeded sample above it, and
two random directions per matrix) in a fresh process, so that the peak RSS is its own, and records
wall and CPU time. The baseline, measured in the same run at the same m, k and n, is the single
layer's numeric check (``numeric_verify``), which a network's check contains once per layer. The
cost exponent is fitted to CPU time against N for the ReLU network with m = k = h = n = N (the
forward pass grows as N³); the load average is printed with the figures.

    .venv/bin/python benchmarks/scale_network_numeric.py                 # every table
    .venv/bin/python benchmarks/scale_network_numeric.py --sizes 32 64  # the ReLU sizes only
    .venv/bin/python benchmarks/scale_network_numeric.py --write-docs   # and docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_losses import (
    fit_exponent,
    peak_rss_mb,
    write_docs_section,
)  # beside this file, which runs as a script

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
#: The heading of this script's section of docs/benchmarks.md (benchmarks/scale.py keeps it).
SECTION = "## Networks: the numeric check"
#: Every line of the report, for --write-docs.
_REPORT: list[str] = []


def _out(line: str) -> None:
    print(line, flush=True)
    _REPORT.append(line.rstrip())


def write_docs(command: str) -> None:
    """Put the report in docs/benchmarks.md as its SECTION, replacing the one there, else after
    the section of benchmarks/scale_networks.py (before ``## How to run``)."""
    intro = (
        "The numeric check of a network (`matgrad derive --numeric`, and above the symbolic"
        " limits), measured by `benchmarks/scale_network_numeric.py`: each network in a fresh"
        " process, against the single layer's numeric check at the same m, k and n measured"
        " in the same run; `draws` counts the draws taken (more than one when a draw could"
        " not tell a wrong rule from the right one). The load average is printed with the"
        " figures."
    )
    write_docs_section(DOCS, SECTION, intro, _REPORT, command)


#: (hidden activation, output activation, hidden widths, loss) at m = k = n = 64.
CASES = [
    ("identity", "identity", (64,), "generic"),
    ("relu", "identity", (64,), "generic"),
    ("leaky-relu", "identity", (64,), "generic"),
    ("generic", "identity", (64,), "generic"),
    ("sigmoid", "identity", (64,), "generic"),
    ("tanh", "sigmoid", (64,), "generic"),
    ("relu", "identity", (64,), "squared-error"),
    ("relu", "identity", (64,), "softmax-cross-entropy"),
    ("sigmoid", "identity", (64,), "softmax-cross-entropy"),
    ("relu", "identity", (64, 64, 64, 64), "generic"),
    ("leaky-relu", "identity", (64, 64, 64, 64), "generic"),
    ("generic", "identity", (64, 64, 64, 64), "generic"),
    ("tanh", "sigmoid", (64, 64, 64, 64), "generic"),
    ("generic", "identity", (64, 64, 64, 64), "softmax-cross-entropy"),
]


def work_network(spec: str) -> None:
    """One network, ``m:k:hidden widths joined by x:n:activation:output:loss``."""
    from matgrad_cli.core.numeric_network import numeric_verify_network

    m, k, hidden, n, activation, output, loss = spec.split(":")
    widths = tuple(int(width) for width in hidden.split("x"))
    chosen: dict[str, Any] = {"activation": activation, "output_activation": output, "loss": loss}
    numeric_verify_network(2, 2, (2,), 2, **chosen)
    wall, cpu = time.perf_counter(), time.process_time()
    result = numeric_verify_network(int(m), int(k), widths, int(n), **chosen)
    row = {
        "spec": spec,
        "wall": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "verified": result.verified,
        "bound": result.bound,
        "compared": sum(check.compared for check in result.checks),
        "entries": sum(check.entries for check in result.checks),
        "draws": result.draws,
        "peak_mib": peak_rss_mb(),
    }
    print(json.dumps(row), flush=True)


def work_layer(spec: str) -> None:
    """The single layer's numeric check at ``m:k:n``."""
    from matgrad_cli.core.numeric import numeric_verify

    m, k, n = (int(size) for size in spec.split(":"))
    numeric_verify(2, 2, 2)
    wall, cpu = time.perf_counter(), time.process_time()
    result = numeric_verify(m, k, n)
    row = {
        "spec": spec,
        "wall": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "verified": result.verified,
    }
    print(json.dumps(row), flush=True)


WORKERS = {"network": work_network, "layer": work_layer}


def _fresh(kind: str, spec: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--worker", kind, spec]
    finished = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if finished.returncode != 0:
        raise RuntimeError(f"{kind} {spec} failed: {finished.stderr.strip()[-400:]}")
    row: dict[str, Any] = json.loads(finished.stdout.strip().splitlines()[-1])
    return row


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _line(label: str, row: dict[str, Any], layer: dict[str, Any]) -> str:
    bound = "exact" if row["bound"] == 0 else f"±{row['bound']:.1e}"
    return (
        f"{label:>56} {row['wall']:>7.2f}s {row['cpu']:>7.2f}s {row['peak_mib']:>5.0f} "
        f"{row['compared']:>7}/{row['entries']:<7} {bound:>9} {layer['cpu']:>8.3f}s "
        f"{row['cpu'] / max(layer['cpu'], 1e-9):>7.0f} {row['draws']:>5}"
    )


HEADER = (
    f"{'network':>56} {'wall':>8} {'cpu':>8} {'MiB':>5} {'compared/entries':>15} "
    f"{'bound':>9} {'layer cpu':>9} {'ratio':>7} {'draws':>5}"
)


def report_sizes(sizes: list[int]) -> None:
    _out("ReLU, two layers, m = k = h = n = N (layer: the single layer's numeric check at N³)")
    _out(HEADER)
    rows = []
    for size in sizes:
        row = _fresh("network", f"{size}:{size}:{size}:{size}:relu:identity:generic")
        layer = _fresh("layer", f"{size}:{size}:{size}")
        assert row["verified"], row
        assert layer["verified"], layer
        rows.append((size, row))
        _out(_line(f"N = {size}", row, layer))
    if len(rows) >= 2:
        exponent = fit_exponent([size for size, _ in rows], [row["cpu"] for _, row in rows])
        _out(f"fitted cost exponent (cpu time against N): {exponent:.2f}")


def report_cases() -> None:
    _out("every activation at m = k = n = 64 (layer: the single layer's numeric check at 64³)")
    _out(HEADER)
    layer = _fresh("layer", "64:64:64")
    for activation, output, hidden, loss in CASES:
        widths = "x".join(str(width) for width in hidden)
        row = _fresh("network", f"64:64:{widths}:64:{activation}:{output}:{loss}")
        assert row["verified"], row
        label = f"{activation}/{output}, hidden {','.join(map(str, hidden))}, {loss}"
        _out(_line(label, row, layer))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[16, 32, 64, 128])
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument(
        "--write-docs", action="store_true", help="and rewrite its section of docs/benchmarks.md"
    )
    arguments = parser.parse_args()
    if arguments.worker:
        kind, spec = arguments.worker
        WORKERS[kind](spec)
        return
    _out(f"load average before: {_load()} ({os.cpu_count()} cores)")
    if arguments.sizes:
        report_sizes(arguments.sizes)
    if "--sizes" not in sys.argv:
        report_cases()
    _out(f"load average after: {_load()}")
    if arguments.write_docs:
        write_docs("benchmarks/scale_network_numeric.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
