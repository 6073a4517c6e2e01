"""The network benchmark: how the verification of a two-layer network grows with its width.

For N in the sizes asked (m = k = h = n = N, generic σ, the generic loss, with the bias) each run
derives and fully verifies the network (``derive_network``) in a fresh process, so that the peak
RSS is that size's own, and records wall and CPU time. The baselines are measured in the same run:
the single layer (``derive``) at the same N, and, at small N, the naive route: SymPy differentiates
the whole composed L = Σ G_{p,q}·O_{p,q} once per entry of X, W1, b1, W2, b2. The cost exponent is
fitted to CPU time against N (wall time is noisy on a shared machine); the load average is
printed with the figures.

Then the classifiers under a concrete loss, each in a fresh process: m = 4 samples, k = 8 inputs,
h = 8 hidden units (ReLU or sigmoid) and n = 10 classes with the softmax cross-entropy, and the
same with 10 sigmoid outputs and the binary cross-entropy, derived and fully verified; the
baseline is the same network under the generic loss, measured in the same run. The whole
command, ``matgrad derive … -f latex`` (start-up and the document included), is timed too; the
target counts the slower of the two.

    .venv/bin/python benchmarks/scale_networks.py                  # N = 4, 8, 12, 16, 24, 32
    .venv/bin/python benchmarks/scale_networks.py --sizes 8 16     # other sizes
    .venv/bin/python benchmarks/scale_networks.py --sizes --naive  # the classifiers alone
    .venv/bin/python benchmarks/scale_networks.py --write-docs     # and docs/benchmarks.md
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

#: The targets of a two-layer network with generic σ at N = 16 and N = 32.
TARGETS = {16: 2.0, 32: 20.0}
MEMORY_TARGET_MIB = 2048
#: The classifiers: (loss, hidden activation, output activation), at m, k, h, n = CLASSIFIER.
CLASSIFIERS = [
    ("softmax-cross-entropy", "relu", "identity"),
    ("softmax-cross-entropy", "sigmoid", "identity"),
    ("binary-cross-entropy", "relu", "sigmoid"),
    ("binary-cross-entropy", "sigmoid", "sigmoid"),
]
CLASSIFIER = (4, 8, 8, 10)
#: The target of a ReLU or sigmoid network with the softmax cross-entropy at those sizes.
CLASSIFIER_TARGET = 5.0


def work_network(size: int) -> None:
    from matgrad_cli.core.network_derive import derive_network

    derive_network(1, 1, (1,), 1)  # imports and the engine's start-up, not timed
    wall, cpu = time.perf_counter(), time.process_time()
    derivation = derive_network(size, size, (size,), size)
    row = {
        "N": size,
        "wall": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "verified": derivation.verified,
        "entries": sum(check.entries_checked for check in derivation.checks),
        "peak_mib": peak_rss_mb(),
    }
    os._exit(_print(row))  # skip freeing millions of objects one by one at exit


def work_classifier(spec: str) -> None:
    """The network at CLASSIFIER's sizes under ``loss:hidden:output`` (or the generic loss)."""
    from matgrad_cli.core.network_derive import derive_network

    loss, hidden, output = spec.split(":")
    m, k, h, n = CLASSIFIER
    derive_network(1, 1, (1,), 1)  # imports and the engine's start-up, not timed
    wall, cpu = time.perf_counter(), time.process_time()
    derivation = derive_network(
        m, k, (h,), n, activation=hidden, output_activation=output, loss=loss
    )
    row = {
        "spec": spec,
        "wall": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "verified": derivation.verified,
        "entries": sum(check.entries_checked for check in derivation.checks),
        "peak_mib": peak_rss_mb(),
    }
    os._exit(_print(row))


def work_layer(size: int) -> None:
    from matgrad_cli import derive

    derive(1, 1, 1)  # imports and the engine's start-up, not timed
    wall, cpu = time.perf_counter(), time.process_time()
    derivation = derive(size, size, size)
    row = {
        "N": size,
        "wall": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "verified": derivation.verified,
    }
    os._exit(_print(row))


def work_naive(size: int) -> None:
    """sympy.diff of the whole composed L by every entry, the route a person would try first."""
    import sympy

    def matrix(stem: str, rows: int, cols: int) -> Any:
        return sympy.Matrix(rows, cols, lambda i, j: sympy.Symbol(f"{stem}_{i}_{j}"))

    wall, cpu = time.perf_counter(), time.process_time()
    sigma = sympy.Function("sigma")
    x, w1, w2 = matrix("x", size, size), matrix("w1", size, size), matrix("w2", size, size)
    b1, b2, g = matrix("b1", 1, size), matrix("b2", 1, size), matrix("g", size, size)
    ones = sympy.ones(size, 1)
    hidden = (x * w1 + ones * b1).applyfunc(sigma)
    output = hidden * w2 + ones * b2
    loss = sum(g[p, q] * output[p, q] for p in range(size) for q in range(size))
    for variable in (x, w1, b1, w2, b2):
        for symbol in variable:
            sympy.diff(loss, symbol)
    row = {"N": size, "wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}
    os._exit(_print(row))


#: Every line of the report, for --write-docs.
_REPORT: list[str] = []
DOCS = ROOT / "docs" / "benchmarks.md"
#: The heading of this script's section of docs/benchmarks.md (benchmarks/scale.py keeps it).
SECTION = "## Networks"


def _out(line: str) -> None:
    print(line, flush=True)
    _REPORT.append(line.rstrip())


def write_docs(command: str) -> None:
    """Put the report in docs/benchmarks.md as its SECTION, replacing the one there (before
    ``## How to run``, which benchmarks/scale.py writes last)."""
    intro = (
        "Two-layer networks and the classifiers, measured by `benchmarks/scale_networks.py`"
        " (each size in a fresh process; wall time suffers most from a loaded machine, so the"
        " load average is printed with the figures):"
    )
    write_docs_section(DOCS, SECTION, intro, _REPORT, command)


def _print(row: dict[str, Any]) -> int:
    print(json.dumps(row), flush=True)
    return 0


WORKERS = {"network": work_network, "layer": work_layer, "naive": work_naive}


def _fresh(kind: str, size: int | str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--worker", kind, str(size)]
    finished = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if finished.returncode != 0:
        raise RuntimeError(f"{kind} at {size} failed: {finished.stderr.strip()[-400:]}")
    row: dict[str, Any] = json.loads(finished.stdout.strip().splitlines()[-1])
    return row


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def report(sizes: list[int], naive_sizes: list[int]) -> None:
    _out(f"load average before: {_load()} ({os.cpu_count()} cores)")
    _out("two layers, generic σ, generic loss, m = k = h = n = N, fully verified")
    _out(
        f"{'N':>4} {'wall':>9} {'cpu':>9} {'peak MiB':>9} {'entries':>9} "
        f"{'layer cpu':>10} {'ratio':>7}  target"
    )
    rows = []
    for size in sizes:
        network, layer = _fresh("network", size), _fresh("layer", size)
        assert network["verified"], network
        assert layer["verified"], layer
        rows.append(network)
        target = TARGETS.get(size)
        verdict = ""
        if target is not None:
            met = network["wall"] <= target and network["peak_mib"] <= MEMORY_TARGET_MIB
            verdict = f"≤ {target:g} s: {'met' if met else 'MISSED'} (cpu {network['cpu']:.2f} s)"
        _out(
            f"{size:>4} {network['wall']:>8.2f}s {network['cpu']:>8.2f}s "
            f"{network['peak_mib']:>9.0f} {network['entries']:>9} {layer['cpu']:>9.3f}s "
            f"{network['cpu'] / max(layer['cpu'], 1e-9):>7.1f}  {verdict}"
        )
    fitted = [row for row in rows if row["N"] >= 8]
    if len(fitted) >= 2:
        exponent = fit_exponent([row["N"] for row in fitted], [row["cpu"] for row in fitted])
        _out(f"fitted cost exponent (cpu time against N, N ≥ 8): {exponent:.2f}")
    for size in naive_sizes:
        naive, network = _fresh("naive", size), _fresh("network", size)
        _out(
            f"naive sympy.diff of the whole L at N = {size}: {naive['cpu']:.2f} s cpu, "
            f"matgrad {network['cpu']:.3f} s cpu (×{naive['cpu'] / network['cpu']:.0f})"
        )
    _out(f"load average after: {_load()}")


def _command_wall(loss: str, hidden: str, output: str) -> float:
    """Wall time of the whole command, ``matgrad derive … -f latex``, start-up included."""
    m, k, h, n = CLASSIFIER
    command = [str(Path(sys.executable).parent / "matgrad"), "derive", "--m", str(m), "--k"]
    command += [str(k), "--hidden", str(h), "--n", str(n), "--activation", hidden]
    command += ["--output-activation", output, "--loss", loss, "-f", "latex"]
    wall = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if finished.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {finished.stderr.strip()[-400:]}")
    return time.perf_counter() - wall


def report_classifiers() -> None:
    m, k, h, n = CLASSIFIER
    _out(f"load average before: {_load()} ({os.cpu_count()} cores)")
    _out(f"classifiers, m = {m}, k = {k}, h = {h}, n = {n}, fully verified")
    _out(
        f"{'loss':>22} {'hidden':>8} {'wall':>8} {'cpu':>8} {'MiB':>5} {'generic cpu':>11} "
        f"{'command':>8}  target"
    )
    for loss, hidden, output in CLASSIFIERS:
        row = _fresh("classifier", f"{loss}:{hidden}:{output}")
        generic = _fresh("classifier", f"generic:{hidden}:{output}")
        assert row["verified"], row
        assert generic["verified"], generic
        command = _command_wall(loss, hidden, output)
        verdict = ""
        if loss == "softmax-cross-entropy":
            met = max(row["wall"], command) <= CLASSIFIER_TARGET
            verdict = f"≤ {CLASSIFIER_TARGET:g} s: {'met' if met else 'MISSED'}"
        _out(
            f"{loss:>22} {hidden:>8} {row['wall']:>7.2f}s {row['cpu']:>7.2f}s "
            f"{row['peak_mib']:>5.0f} {generic['cpu']:>10.2f}s {command:>7.2f}s  {verdict}"
        )
    _out(f"load average after: {_load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[4, 8, 12, 16, 24, 32])
    parser.add_argument("--naive", type=int, nargs="*", default=[3, 4])
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument(
        "--write-docs", action="store_true", help="and rewrite its section of docs/benchmarks.md"
    )
    arguments = parser.parse_args()
    if arguments.worker:
        kind, size = arguments.worker
        if kind == "classifier":
            work_classifier(size)
        else:
            WORKERS[kind](int(size))
        return
    if arguments.sizes or arguments.naive:
        report(arguments.sizes, arguments.naive)
    report_classifiers()
    if arguments.write_docs:
        write_docs("benchmarks/scale_networks.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
