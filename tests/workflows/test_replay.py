"""Stored histories still replay with today's workflow code (regenerate: JFC_WRITE_HISTORIES=1, see the tests
that write them: test_permit_workflow's happy path and test_permit_updates' confirmed rejection).

`permit.json` is a run from submission to completion (with its planning, notifications and read-model projections,
local activities all), `clearance.json`
its poll-mode clearance, `permit_updates.json` a run with an agency rejection an officer confirms through
the `decide` update; `incentive.json` a location rebate from application to completion (test_incentive_workflow),
`feature_call.json` a first-feature call that ranked three applications.
"""

from __future__ import annotations

import json

import pytest
from stored_histories import history
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from schemas.contracts import (
    FUND_RESERVE,
    GET_CLEARANCE_STATUS,
    NOTIFY,
    PLAN_APPLICATION,
    RECORD_APPLICATION,
    RECORD_INCENTIVE,
    TREASURY_PAY,
    UPDATE_CLAIM,
    UPDATE_COMMITTEE,
    UPDATE_DECIDE,
)
from workers.sandbox import workflow_runner
from workflows.clearance import AgencyClearanceWorkflow
from workflows.feature_call import FeatureCallWorkflow
from workflows.incentive import IncentiveApplicationWorkflow
from workflows.permit import PermitApplicationWorkflow

WORKFLOWS = [PermitApplicationWorkflow, AgencyClearanceWorkflow, IncentiveApplicationWorkflow, FeatureCallWorkflow]


def scheduled_activities(h: WorkflowHistory) -> list[str]:
    return [e.activity_task_scheduled_event_attributes.activity_type.name for e in h.events
            if e.HasField("activity_task_scheduled_event_attributes")]


def local_activities(h: WorkflowHistory) -> list[str]:
    """The local activities a history records, from their markers."""
    return [json.loads(e.marker_recorded_event_attributes.details["data"].payloads[0].data)["activity_type"]
            for e in h.events if e.HasField("marker_recorded_event_attributes")]


@pytest.mark.parametrize("name", ["permit.json", "clearance.json", "permit_updates.json", "incentive.json",
                                  "feature_call.json"])
async def test_stored_history_replays(name):
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter,
                        workflow_runner=workflow_runner(WORKFLOWS))
    result = await replayer.replay_workflow(history(name), raise_on_replay_failure=True)
    assert result.replay_failure is None


def test_the_stored_histories_exercise_what_they_guard():
    """A replay proves little unless the history holds the commands: projections, polls, an update."""
    assert {RECORD_APPLICATION, NOTIFY} <= set(local_activities(history("permit.json")))
    assert PLAN_APPLICATION in scheduled_activities(history("permit.json"))
    assert RECORD_INCENTIVE in local_activities(history("incentive.json"))
    assert GET_CLEARANCE_STATUS in scheduled_activities(history("clearance.json"))
    updates = [e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
               for e in history("permit_updates.json").events
               if e.HasField("workflow_execution_update_accepted_event_attributes")]
    assert UPDATE_DECIDE in updates
    incentive = [e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
                 for e in history("incentive.json").events
                 if e.HasField("workflow_execution_update_accepted_event_attributes")]
    assert {UPDATE_CLAIM, UPDATE_COMMITTEE} <= set(incentive)
    assert TREASURY_PAY in scheduled_activities(history("incentive.json"))
    assert FUND_RESERVE in scheduled_activities(history("feature_call.json"))
