"""benchmarks/scale_network_numeric.py writes its section of docs/benchmarks.md, and
benchmarks/scale.py --write-docs keeps it beside the networks' section."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))  # the scripts import their neighbours by name
scale = importlib.import_module("scale")
scale_network_numeric = importlib.import_module("scale_network_numeric")


def test_the_numeric_section_is_written_replaced_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\n## Networks\n\nnetwork table\n\n## How to run\n\nrun\n")
    monkeypatch.setattr(scale_network_numeric, "DOCS", docs)
    monkeypatch.setattr(scale, "DOCS", docs)
    monkeypatch.setattr(scale_network_numeric, "_REPORT", ["first figures"])
    scale_network_numeric.write_docs("benchmarks/scale_network_numeric.py --write-docs")
    monkeypatch.setattr(scale_network_numeric, "_REPORT", ["second figures"])
    scale_network_numeric.write_docs("benchmarks/scale_network_numeric.py --write-docs")
    text = docs.read_text()
    assert "first figures" not in text
    assert text.index("## Networks\n") < text.index("second figures") < text.index("## How to")
    scale.write_docs(["### Symbolic", "table"], ["machine"], "benchmarks/scale.py --write-docs")
    rewritten = docs.read_text()
    assert "network table" in rewritten
    assert rewritten.count(scale_network_numeric.SECTION + "\n") == 1
    assert rewritten.index("network table") < rewritten.index("second figures")
    assert rewritten.index("second figures") < rewritten.index("## How to run")
