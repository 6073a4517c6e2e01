"""Shared test helpers: golden files and running the command line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"


def assert_golden(actual: str, relative: str) -> None:
    """Compare ``actual`` with the golden file; MATGRAD_UPDATE_GOLDEN=1 rewrites it instead."""
    path = GOLDEN / relative
    if os.environ.get("MATGRAD_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"golden file {path} is missing; run with MATGRAD_UPDATE_GOLDEN=1")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"output differs from {path} (MATGRAD_UPDATE_GOLDEN=1 to update)"
