"""The workflow code calls no clock, randomness, environment or I/O of its own.

The workflow helpers pass through the sandbox (workers/sandbox.py), so its restrictions no longer catch such a call
in them; this check reads every `workflows` module instead. Time comes from `workflow.now()`, randomness from
`workflow.random()`, everything else from activities.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"
FORBIDDEN_IMPORTS = {"random", "time", "uuid", "os", "socket", "threading", "subprocess", "secrets", "httpx",
                     "asyncpg", "requests", "structlog"}
CLOCKS = {"now", "utcnow", "today", "fromtimestamp"}  # on datetime or date; workflow.now() is the workflow's clock
FORBIDDEN_CALLS = {"open", "input", "print"}


def dotted(node: ast.AST) -> str:
    """`a.b.c` for an attribute chain (empty when it does not start from a name)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def problems(source: str) -> list[str]:
    """Each non-deterministic import or call in `source`, with its line."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            found += [f"line {node.lineno}: imports {n}" for n in names if n.split(".")[0] in FORBIDDEN_IMPORTS]
        elif isinstance(node, ast.Call):
            name = dotted(node.func)
            base, _, attr = name.rpartition(".")
            if attr in CLOCKS and base.split(".")[-1] in ("datetime", "date", "dt"):
                found.append(f"line {node.lineno}: calls {name}()")
            elif name in FORBIDDEN_CALLS:
                found.append(f"line {node.lineno}: calls {name}()")
    return found


@pytest.mark.parametrize("path", sorted(WORKFLOWS.rglob("*.py")), ids=lambda p: str(p.relative_to(WORKFLOWS)))
def test_workflow_modules_take_time_and_io_only_from_temporal(path: Path):
    assert problems(path.read_text()) == []


def test_the_check_finds_a_clock_a_random_number_and_a_file():
    source = ("import datetime as dt\nimport random\nfrom temporalio import workflow\n"
              "a = dt.datetime.now()\nb = workflow.now()\nc = dt.date.today()\nopen('x')\n")
    assert problems(source) == ["line 2: imports random", "line 4: calls dt.datetime.now()",
                                "line 6: calls dt.date.today()", "line 7: calls open()"]
