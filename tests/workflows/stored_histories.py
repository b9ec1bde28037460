"""The workflow histories stored under `histories/` (captured from real runs; JFC_WRITE_HISTORIES=1 rewrites them)."""

from __future__ import annotations

from pathlib import Path

from temporalio.client import WorkflowHistory

HISTORIES = Path(__file__).parent / "histories"


def history(name: str) -> WorkflowHistory:
    """The stored history `name` (e.g. "permit.json"), its file's stem as workflow id."""
    path = HISTORIES / name
    return WorkflowHistory.from_json(path.stem, path.read_text())
