"""The scale benchmark: how matgrad's time and memory grow with the size of the layer.

For N in 8, 16, 32, 64 (m = k = n = N, the generic loss, with the bias) it times the phases of the
symbolic verification of the biased layer (build, differentiate, verify), the whole document
(``derive``: both layers) and its LaTeX rendering, each N in a fresh process so that the peak RSS
is that size's own. It compares with the naive route, ``sympy.diff`` of the expanded loss for every
entry, with the pure-SymPy engine at small N, and times the numeric check at 128 to 1024 and the
start-up of the command line. Then the concrete losses (scale_losses.py): their symbolic
verification up to 64³ and a softmax classifier of 10 and 100 classes, the route it replaced,
``check`` latency, and their numeric check.

    .venv/bin/python benchmarks/scale.py                 # print the tables (five minutes or so)
    .venv/bin/python benchmarks/scale.py --write-docs    # and write docs/benchmarks.md
    .venv/bin/python benchmarks/scale.py --help          # sizes, repeats, the baseline's range
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_losses import (  # beside this file, which runs as a script
    fit_exponent,
    peak_rss_mb,
    run_losses,
    timed,
)

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"

Row = dict[str, Any]


# --- Workers: each runs in a fresh process and prints one line of JSON. ---------------------


def work_layer(size: int, engine_name: str) -> Row:
    """The phases of the symbolic verification of the biased layer, as derive_layer runs them."""
    from matgrad_cli.core.compare import verify_gradients
    from matgrad_cli.core.derive import build_symbols, validate_sizes
    from matgrad_cli.core.elementwise import (
        Differentiator,
        elementwise_gradients,
        forward,
        products_of_entries,
    )
    from matgrad_cli.core.engine import get_engine
    from matgrad_cli.core.matrix import matrix_forms

    engine, load = timed(lambda: get_engine(engine_name))
    sizes = validate_sizes(size, size, size, engine_name)
    # derive() pauses the cycle collector for the same work; do as it does.
    gc.disable()
    symbols, build_symbols_time = timed(lambda: build_symbols(sizes, engine))
    products, products_time = timed(lambda: products_of_entries(symbols, sizes))
    outputs, forward_time = timed(lambda: forward(symbols, sizes, True, engine, products))
    gradients, gradients_time = timed(
        lambda: elementwise_gradients(outputs, symbols, sizes, True, Differentiator(engine), engine)
    )
    forms, forms_time = timed(lambda: matrix_forms(symbols, sizes, True, engine))
    checks, compare_time = timed(lambda: verify_gradients(gradients, forms, True, symbols, engine))
    if not all(check.holds for check in checks):
        raise SystemExit(f"the biased layer at N={size} did not verify")
    return {
        "engine_load": load,
        "build": build_symbols_time + products_time,
        "differentiate": forward_time + gradients_time,
        "verify": forms_time + compare_time,
        "rss_mb": peak_rss_mb(),
    }


def work_document(size: int, engine_name: str) -> Row:
    """derive(): both layers and the bias check, then the standalone LaTeX document."""
    from matgrad_cli.core.derive import derive
    from matgrad_cli.core.engine import get_engine

    get_engine(engine_name)
    derivation, derive_time = timed(lambda: derive(size, size, size, bias=True, engine=engine_name))
    if not derivation.verified:
        raise SystemExit(f"the derivation at N={size} did not verify")

    def render() -> str:
        from matgrad_cli.present import render as render_result

        return render_result(derivation, "latex", standalone=True)

    document, render_time = timed(render)
    return {
        "derive": derive_time,
        "render": render_time,
        "characters": len(document),
        "rss_mb": peak_rss_mb(),
    }


def work_baseline(size: int, sample: int) -> Row:
    """The naive route: expand L = Σ dA_p_q·a_{p,q} with SymPy, then sympy.diff(L, x) per entry.

    With ``sample`` > 0 and more entries than that, only ``sample`` entries spread evenly over Z
    and W are differentiated and the time is scaled to all 2·N² of them: every call walks the
    whole expanded loss, so each costs about the same.
    """
    import sympy

    def expanded_loss() -> tuple[Any, list[Any]]:
        def matrix(name: str) -> list[list[Any]]:
            return [
                [sympy.Symbol(f"{name}_{i}_{j}") for j in range(1, size + 1)]
                for i in range(1, size + 1)
            ]

        inputs, weights, upstream = matrix("z"), matrix("w"), matrix("dA")
        loss = sympy.expand(
            sympy.Add(
                *[
                    upstream[p][q] * sympy.Add(*[inputs[p][s] * weights[s][q] for s in range(size)])
                    for p in range(size)
                    for q in range(size)
                ]
            )
        )
        return loss, [entry for row in inputs + weights for entry in row]

    (loss, entries), expand_time = timed(expanded_loss)
    chosen = entries
    if 0 < sample < len(entries):
        step = len(entries) / sample
        chosen = [entries[int(index * step)] for index in range(sample)]

    def differentiate() -> None:
        for entry in chosen:
            sympy.diff(loss, entry)

    _, diff_time = timed(differentiate)
    return {
        "expand": expand_time,
        "diff": diff_time * len(entries) / len(chosen),
        "entries_timed": len(chosen),
        "entries": len(entries),
        "rss_mb": peak_rss_mb(),
    }


def work_numeric(size: int) -> Row:
    """The numeric check of the biased layer: the first run in the process (numpy's import timed
    apart) and the best of three."""
    _, import_time = timed(lambda: __import__("numpy"))
    from matgrad_cli.core.numeric import numeric_verify

    runs = [timed(lambda: numeric_verify(size, size, size, bias=True)) for _ in range(3)]
    result = runs[0][0]
    if not result.verified:
        raise SystemExit(f"the numeric check at N={size} did not verify")
    first = result.checks[0]
    return {
        "seconds": min(seconds for _, seconds in runs),
        "first": runs[0][1],
        "numpy_import": import_time,
        "every_entry": first.every_entry,
        "entries_by_difference": first.entries_by_difference,
        "directions": first.directions,
        "rss_mb": peak_rss_mb(),
    }


def run_worker(kind: str, size: int, engine: str, sample: int) -> None:
    """Run one measurement in this process and print it as JSON."""
    if kind == "layer":
        row = work_layer(size, engine)
    elif kind == "document":
        row = work_document(size, engine)
    elif kind == "baseline":
        row = work_baseline(size, sample)
    else:
        row = work_numeric(size)
    sys.stdout.write(json.dumps(row) + "\n")


# --- The driver. ---------------------------------------------------------------------------


def _note(message: str) -> None:
    sys.stderr.write(f"[scale] {message}\n")
    sys.stderr.flush()


def measure(kind: str, size: int, repeat: int, engine: str = "symengine", sample: int = 0) -> Row:
    """Run a worker ``repeat`` times in fresh processes: the fastest time of each field, and the
    largest peak RSS."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        kind,
        "--size",
        str(size),
        "--engine",
        engine,
        "--baseline-sample",
        str(sample),
    ]
    rows: list[Row] = []
    for _ in range(repeat):
        _note(f"{kind} N={size}" + (f" ({engine})" if kind in ("layer", "document") else ""))
        finished = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
        if finished.returncode != 0:
            raise SystemExit(f"{kind} N={size} failed:\n{finished.stderr}")
        rows.append(json.loads(finished.stdout.strip().splitlines()[-1]))
    best: Row = {}
    for key in rows[0]:
        values = [row[key] for row in rows]
        if key == "rss_mb":
            best[key] = max(values)
        elif isinstance(values[0], float):
            best[key] = min(values)
        else:
            best[key] = values[0]
    return best


def _command_line() -> list[str]:
    script = Path(sys.executable).parent / "matgrad"
    return [str(script)] if script.exists() else [sys.executable, "-m", "matgrad_cli"]


def time_command(arguments: Sequence[str], runs: int) -> float:
    """The best wall time of ``runs`` runs of the command, stdout to /dev/null."""
    best = math.inf
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [*_command_line(), *arguments],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
            cwd=ROOT,
        )
        best = min(best, time.perf_counter() - start)
    return best


def _seconds(value: float) -> str:
    if value < 0.01:
        return f"{value * 1000:.1f} ms"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.2f} s"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return (
            "| "
            + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
            + " |"
        )

    return [line(header), "|" + "|".join("-" * (width + 2) for width in widths) + "|"] + [
        line(row) for row in rows
    ]


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("sympy", "symengine", "numpy"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def _processor() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def speed_probe() -> float:
    """The best of three timings of a fixed pure-Python loop: how fast this machine runs the
    interpreter right now. Taken at the start and the end of a run, it shows how much the
    machine's speed moved while the tables were measured (shared machines drift by tens of %)."""
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        total = 0
        for value in range(2_000_000):
            total += value
        best = min(best, time.perf_counter() - start)
    return best


def machine_lines() -> list[str]:
    versions = _versions()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return [
        f"- CPU: {_processor()}, nproc = {os.cpu_count()}",
        f"- Python {platform.python_version()} on {platform.system()} {platform.release()}",
        f"- sympy {versions['sympy']}, symengine {versions['symengine']}, "
        f"numpy {versions['numpy']}",
        f"- load average when the run started: {load}",
    ]


def run(args: argparse.Namespace) -> tuple[list[str], bool]:
    """Every measurement; the report as Markdown lines, and whether the targets were met."""
    repeat = args.repeat
    sizes: list[int] = args.sizes
    report: list[str] = []
    layers = {size: measure("layer", size, repeat) for size in sizes}
    documents = {size: measure("document", size, repeat) for size in sizes}
    baselines = {
        size: measure("baseline", size, 1, sample=args.baseline_sample)
        for size in sizes
        if size <= args.baseline_max
    }

    def layer_total(size: int) -> float:
        row = layers[size]
        return float(row["build"] + row["differentiate"] + row["verify"])

    rows = []
    for size in sizes:
        layer, document = layers[size], documents[size]
        baseline = baselines.get(size)
        if baseline is None:
            baseline_text = ratio_text = "—"
        else:
            naive = baseline["expand"] + baseline["diff"]
            estimated = baseline["entries_timed"] < baseline["entries"]
            baseline_text = _seconds(naive) + (
                f" (est. from {baseline['entries_timed']} of {baseline['entries']} entries)"
                if estimated
                else ""
            )
            ratio_text = f"{naive / layer_total(size):,.0f}×"
        rows.append(
            [
                str(size),
                _seconds(layer["build"]),
                _seconds(layer["differentiate"]),
                _seconds(layer["verify"]),
                _seconds(layer_total(size)),
                f"{layer['rss_mb']:.0f} MiB",
                _seconds(document["derive"]),
                _seconds(document["render"]),
                f"{document['rss_mb']:.0f} MiB",
                baseline_text,
                ratio_text,
            ]
        )
    report += [
        "### Symbolic verification (symengine), m = k = n = N, with the bias",
        "",
        *_table(
            [
                "N",
                "build",
                "differentiate",
                "verify",
                "verify (biased layer)",
                "peak RSS",
                "derive (document: both layers)",
                "render LaTeX",
                "peak RSS",
                "sympy.diff per entry",
                "ratio",
            ],
            rows,
        ),
        "",
    ]
    fitted = [size for size in sizes if size >= 16]
    if len(fitted) >= 2:
        layer_slope = fit_exponent(fitted, [layer_total(size) for size in fitted])
        document_slope = fit_exponent(fitted, [documents[size]["derive"] for size in fitted])
        report += [
            f"Fitted cost exponent over N = {', '.join(map(str, fitted))} (least squares of log "
            f"time on log N): verify (biased layer) ∝ N^{layer_slope:.2f}, derive (document) ∝ "
            f"N^{document_slope:.2f}. The work is N³ multiply-adds of symbols.",
            "",
        ]

    engine_rows = []
    for size in args.engine_sizes:
        fast = layers[size] if size in layers else measure("layer", size, repeat)
        slow = measure("layer", size, repeat, engine="sympy")
        fast_total = fast["build"] + fast["differentiate"] + fast["verify"]
        slow_total = slow["build"] + slow["differentiate"] + slow["verify"]
        engine_rows.append(
            [
                str(size),
                _seconds(fast_total),
                _seconds(slow_total),
                f"{slow_total / fast_total:.1f}×",
            ]
        )
    if engine_rows:
        report += [
            "### Engines: verify (biased layer)",
            "",
            *_table(["N", "symengine", "sympy", "sympy / symengine"], engine_rows),
            "",
        ]

    numeric_rows = []
    numeric_times: dict[int, float] = {}
    numpy_import = 0.0
    for size in args.numeric_sizes:
        row = measure("numeric", size, repeat)
        numeric_times[size] = row["first"]
        numpy_import = max(numpy_import, row["numpy_import"])
        sampled = f"{row['entries_by_difference']:,} sampled entries"
        how = "every entry" if row["every_entry"] else f"{sampled} + {row['directions']} directions"
        numeric_rows.append(
            [
                str(size),
                _seconds(row["first"]),
                _seconds(row["seconds"]),
                how,
                f"{row['rss_mb']:.0f} MiB",
            ]
        )
    if numeric_rows:
        report += [
            "### Numeric check (`--numeric`): exact integer arithmetic, with the bias",
            "",
            *_table(
                ["N", "first run", "best of 3", "difference quotients per gradient", "peak RSS"],
                numeric_rows,
            ),
            "",
            "The first run is what a command pays after importing numpy (numpy's import itself, "
            f"about {_seconds(numpy_import)} here, comes on top).",
            "",
        ]

    cli_times: dict[str, float] = {}
    if not args.skip_cli:
        largest = max(sizes)
        commands = {
            "matgrad --help": ["--help"],
            "matgrad derive (2×2×2, latex)": ["derive"],
            f"matgrad derive --m {largest} --k {largest} --n {largest} (latex)": [
                "derive",
                *(f"--{name}={largest}" for name in "mkn"),
            ],
        }
        for label, arguments in commands.items():
            _note(label)
            cli_times[label] = time_command(arguments, args.cli_runs)
        report += [
            f"### Command line (best of {args.cli_runs}, wall time, stdout to /dev/null)",
            "",
            *_table(
                ["command", "time"],
                [[label, _seconds(seconds)] for label, seconds in cli_times.items()],
            ),
            "",
        ]

    met = True
    targets = []

    def target(text: str, ok: bool) -> None:
        nonlocal met
        met &= ok
        targets.append(f"- {text} ({'met' if ok else 'MISSED'})")

    for size, limit in ((32, 1.0), (64, 5.0)):
        if size in layers:
            target(
                f"verify (biased layer) at N = {size} ≤ {limit:g} s: {_seconds(layer_total(size))}",
                layer_total(size) <= limit,
            )
    if 64 in layers:
        peak = max(layers[64]["rss_mb"], documents[64]["rss_mb"])
        target(f"peak RSS at N = 64 ≤ 1 GiB: {peak:.0f} MiB", peak <= 1024)
    if len(fitted) >= 2:
        target(
            f"cost exponent close to 3: N^{layer_slope:.2f} (layer), N^{document_slope:.2f} "
            "(document)",
            all(2.6 <= slope <= 3.4 for slope in (layer_slope, document_slope)),
        )
    for label, seconds in cli_times.items():
        limit = 0.25 if "help" in label else 1.0 if "2×2×2" in label else 5.0
        target(f"{label} ≤ {limit:g} s: {_seconds(seconds)}", seconds <= limit)
    if 16 in baselines:
        baseline = baselines[16]
        ratio = (baseline["expand"] + baseline["diff"]) / layer_total(16)
        target(f"ratio to sympy.diff per entry at N = 16 ≥ 100×: {ratio:,.0f}×", ratio >= 100)
    if 1024 in numeric_times:
        target(
            f"numeric check at 1024³ ≤ 2 s (first run): {_seconds(numeric_times[1024])}",
            numeric_times[1024] <= 2.0,
        )
    if not args.skip_losses:
        loss_report, loss_targets = run_losses(repeat, args.loss_numeric_sizes)
        report += loss_report
        for text, ok in loss_targets:
            target(text, ok)
    if targets:
        report += ["### Targets", "", *targets, ""]
    return report, met


DOC_INTRO = """# Benchmarks

How matgrad's time and memory grow with the size of the layer, measured by
`benchmarks/scale.py`. Every size runs in a fresh process, so each peak RSS is that size's own;
times are the best of the repeats. Timings move with the machine and its load, so compare rows
of one run, not runs on different machines.

What is measured:

- **verify (biased layer)**: the symbolic verification of A = ZW + 1_m b alone, in its phases:
  *build* (one symbol per entry and the products z_{i,s}·w_{s,j}), *differentiate* (the forward
  pass and every elementwise partial by the chain rule), *verify* (G·Wᵀ, Zᵀ·G and 1ᵀ·G
  multiplied out and compared entry by entry).
- **derive (document: both layers)**: `matgrad_cli.core.derive(N, N, N, bias=True)`, what
  `matgrad derive` computes: the layer without and with the bias and the check that the bias
  leaves ∂L/∂Z and ∂L/∂W unchanged. *render LaTeX* is the standalone document from it (large
  matrices elided, as on the command line).
- **sympy.diff per entry**: the naive route, `sympy.diff(L, x)` of the whole expanded loss
  L = Σ dA_{p,q}·a_{p,q} for each of the 2N² entries of Z and W, in pure SymPy, including the
  expansion. By default every entry is timed; `--baseline-sample S` times S entries spread over
  Z and W and scales to all 2N² (each call walks the whole loss, so they cost about the same),
  marked "est.". The ratio is its time over *verify (biased layer)*, which does more: it also
  verifies, and covers the bias.
- **numeric check**: `matgrad_cli.core.numeric.numeric_verify`, exact integer arithmetic at random
  integer matrices, for sizes past the symbolic limit. Every entry is compared with a one-entry
  difference quotient while m·k²·n ≤ 2³¹ and k²·(m + n) ≤ 2²⁷ (up to 215³); above that a seeded
  sample of 2,000 entries per gradient, and the whole gradient along random directions.
"""


def write_docs(report: list[str], machine: list[str], command: str) -> None:
    """Write docs/benchmarks.md: what is measured, the machine, the tables, how to run; the
    sections of benchmarks/scale_networks.py (``## Networks``) and of
    benchmarks/scale_network_numeric.py (``## Networks: the numeric check``) are kept."""
    networks = ""
    if DOCS.exists():
        previous = DOCS.read_text(encoding="utf-8")
        for heading in ("## Networks\n", "## Networks: the numeric check\n"):
            start = previous.find(heading)
            if start >= 0:
                end = previous.find("\n## ", start + 1)
                kept = previous[start:end] if end >= 0 else previous[start:]
                networks += kept.rstrip() + "\n\n"
        networks = networks.rstrip() + "\n" if networks else ""
    text = "\n".join(
        [
            DOC_INTRO,
            "## Machine",
            "",
            *machine,
            "",
            "## Results",
            "",
            *report,
            *([networks] if networks else []),
            "## How to run",
            "",
            "```sh",
            ".venv/bin/python benchmarks/scale.py                # print the tables",
            ".venv/bin/python benchmarks/scale.py --write-docs   # and rewrite this file",
            ".venv/bin/python benchmarks/scale.py --repeat 3     # best of 3 runs per size",
            ".venv/bin/python benchmarks/scale.py --baseline-sample 32 --check   # quick; exit 1 "
            "if a target is missed",
            "```",
            "",
            f"This file was written by `{command}`. The default run takes about two minutes; "
            "`--help` lists the sizes and options.",
            "",
        ]
    )
    DOCS.write_text(text, encoding="utf-8")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--sizes", nargs="*", type=int, default=[8, 16, 32, 64], help="symbolic N values"
    )
    parser.add_argument(
        "--engine-sizes", nargs="*", type=int, default=[8, 16], help="N for symengine vs sympy"
    )
    parser.add_argument(
        "--numeric-sizes", nargs="*", type=int, default=[128, 256, 512, 1024], help="numeric N"
    )
    parser.add_argument("--baseline-max", type=int, default=16, help="largest N for the baseline")
    parser.add_argument(
        "--baseline-sample",
        type=int,
        default=0,
        help="entries the baseline differentiates, scaled to all 2N² (default 0: every entry)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (the best)")
    parser.add_argument("--cli-runs", type=int, default=5, help="runs per command-line timing")
    parser.add_argument("--skip-cli", action="store_true", help="do not time the command line")
    parser.add_argument("--write-docs", action="store_true", help=f"write {DOCS.relative_to(ROOT)}")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--skip-losses", action="store_true", help="do not measure the concrete losses"
    )
    parser.add_argument(
        "--loss-numeric-sizes",
        nargs="*",
        type=int,
        default=[128, 256, 512, 1024],
        help="N for the numeric check of the concrete losses",
    )
    parser.add_argument(
        "--worker", choices=["layer", "document", "baseline", "numeric"], help=argparse.SUPPRESS
    )
    parser.add_argument("--size", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--engine", default="symengine", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    if args.worker is not None:
        run_worker(args.worker, args.size, args.engine, args.baseline_sample)
        return 0
    start = time.perf_counter()
    machine = machine_lines()
    probe_before = speed_probe()
    report, met = run(args)
    probe_after = speed_probe()
    machine.append(
        f"- speed probe (a fixed pure-Python loop, best of 3): {_seconds(probe_before)} before "
        f"the run, {_seconds(probe_after)} after it; every time here scales with it"
    )
    elapsed = time.perf_counter() - start
    sys.stdout.write("\n".join(["## Machine", "", *machine, "", *report]) + "\n")
    sys.stdout.write(f"(benchmark run: {elapsed:.0f} s)\n")
    if args.write_docs:
        arguments = " ".join(sys.argv[1:] if argv is None else argv)
        write_docs(report, machine, f"benchmarks/scale.py {arguments}".strip())
        _note(f"wrote {DOCS.relative_to(ROOT)}")
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    raise SystemExit(main())
