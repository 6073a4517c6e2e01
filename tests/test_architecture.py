"""The shape of the package (ARCHITECTURE.md): no import cycles, small modules, short functions.

The direction of imports (cli → present → core, and no rich, typer or present in core) is held
by import-linter's contracts in pyproject.toml, which `.ci/run` checks; this file holds what
import-linter does not: that no two modules import each other, even lazily, and the sizes.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "matgrad_cli"

#: A module may be longer, or a function longer, only if a comment at the top of the module says
#: why, starting with this marker.
WHY_LONGER = "# Longer than the house rule because"

MODULE_LINES = 600
FUNCTION_LINES = 60


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _excused(source: str) -> bool:
    head = source.split('"""', 2)[-1] if source.startswith('"""') else source
    return any(line.startswith(WHY_LONGER) for line in head.splitlines()[:30])


def test_no_module_imports_itself_back_through_another() -> None:
    import grimp

    graph = grimp.build_graph("matgrad_cli", cache_dir=None)
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if imported != module and graph.chain_exists(imported=module, importer=imported):
                cycles.append(f"{module} → {imported} → … → {module}")
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


@pytest.mark.parametrize("path", _modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_modules_and_functions_are_small(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    if _excused(source):
        return
    lines = source.count("\n")
    assert lines <= MODULE_LINES, f"{path.name} has {lines} lines (at most {MODULE_LINES})"
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > FUNCTION_LINES
    ]
    assert not long, f"{path.name}: functions over {FUNCTION_LINES} lines: {', '.join(long)}"
