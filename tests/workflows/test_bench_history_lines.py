"""bench/throughput.py's `--show-history` lines: each event with what it is about, on stored histories."""

from __future__ import annotations

from stored_histories import history

from bench.throughput import event_line
from schemas.contracts import NOTIFY, PLAN_APPLICATION, RECORD_APPLICATION, SIGNAL_CLEARANCE_CHANGED, SUBMIT_CLEARANCE


def lines(name: str) -> list[str]:
    return [event_line(e) for e in history(name).events]


def test_each_line_names_the_activity_local_activity_or_signal_of_its_event() -> None:
    permit = lines("permit.json")
    assert permit[0] == "   1 workflow_execution_started"
    assert [int(line.split()[0]) for line in permit] == list(range(1, len(permit) + 1))
    about = {line.split(maxsplit=1)[1] for line in permit}
    assert {f"marker_recorded {RECORD_APPLICATION}", f"marker_recorded {NOTIFY}", f"activity_task_scheduled "
            f"{PLAN_APPLICATION}", f"workflow_execution_signaled {SIGNAL_CLEARANCE_CHANGED}"} <= about

    about = {line.split(maxsplit=1)[1] for line in lines("clearance.json")}
    assert {f"activity_task_scheduled {SUBMIT_CLEARANCE}",
            f"signal_external_workflow_execution_initiated {SIGNAL_CLEARANCE_CHANGED}"} <= about
