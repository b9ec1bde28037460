"""Stored histories still replay with today's workflow code (regenerate: JFC_WRITE_HISTORIES=1, see test_permit_workflow)."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.clearance import AgencyClearanceWorkflow
from workflows.permit import PermitApplicationWorkflow

HISTORIES = Path(__file__).parent / "histories"


@pytest.mark.parametrize("name", ["permit.json", "clearance.json"])
async def test_stored_history_replays(name):
    path = HISTORIES / name
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=[PermitApplicationWorkflow, AgencyClearanceWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None
