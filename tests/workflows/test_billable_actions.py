"""bench/actions.py's counting of Temporal Cloud actions, on a stored permit history."""

from __future__ import annotations

from stored_histories import history
from temporalio.api.enums.v1 import EventType

from bench.actions import billable_actions



def test_the_permit_history_counts_each_kind_by_the_cloud_rules() -> None:
    permit = history("permit.json")
    kinds = [e.event_type for e in permit.events]
    counted = billable_actions(permit)

    assert counted["workflow started"] == 1
    assert counted["child workflow started"] == 2 * kinds.count(EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED)
    assert counted["activity"] == kinds.count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) > 0
    assert counted["timer"] == kinds.count(EventType.EVENT_TYPE_TIMER_STARTED)
    assert counted["signal"] == kinds.count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) > 0
    assert billable_actions(permit, started_by_parent=True)["workflow started"] == 0  # counted at its parent


def test_a_clearance_started_by_its_parent_is_not_counted_twice() -> None:
    clearance = history("clearance.json")
    assert billable_actions(clearance, started_by_parent=True)["workflow started"] == 0
    assert sum(billable_actions(clearance, started_by_parent=True).values()) > 0
