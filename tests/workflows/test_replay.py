"""Stored histories still replay with today's workflow code (regenerate: JFC_WRITE_HISTORIES=1, see test_permit_workflow).

`permit_updates.json` holds a `decide` update and an agency rejection waiting for an officer (the
`rejection-confirmation` patch). `*_before_read_model.json` are runs from before projections existed: kept (never regenerated) to prove
that applications started on older workers still replay (the `read-model-projection` patch).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from schemas.contracts import RECORD_APPLICATION
from workflows.clearance import AgencyClearanceWorkflow
from workflows.permit import PermitApplicationWorkflow

HISTORIES = Path(__file__).parent / "histories"


@pytest.mark.parametrize(
    "name",
    ["permit.json", "clearance.json", "permit_before_read_model.json", "clearance_before_read_model.json",
     "permit_updates.json"],
)
async def test_stored_history_replays(name):
    path = HISTORIES / name
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=[PermitApplicationWorkflow, AgencyClearanceWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None


def test_the_stored_permit_history_is_current():
    """permit.json was regenerated after projections came: it must exercise them, or the replay proves little."""
    path = HISTORIES / "permit.json"
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    assert RECORD_APPLICATION in scheduled


def test_the_stored_updates_history_holds_an_update_and_the_rejection_patch():
    path = HISTORIES / "permit_updates.json"
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    assert any(e.HasField("workflow_execution_update_accepted_event_attributes") for e in history.events)
    patches = [
        payload.data.decode()
        for e in history.events
        if e.HasField("marker_recorded_event_attributes")
        for details in e.marker_recorded_event_attributes.details.values()
        for payload in details.payloads
    ]
    assert any("rejection-confirmation" in p for p in patches), patches
