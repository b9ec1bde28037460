"""A clearance against an agency that misbehaves: a Retry-After of a year, a decision naming another reference."""

from __future__ import annotations

import datetime as dt

from temporalio.api.enums.v1 import EventType
from wf_harness import PARKS, Run, plan, running

from schemas.contracts import SIGNAL_AGENCY_DECISION
from schemas.decisions import AgencyDecision, Outcome
from schemas.status import ClearanceStatus
from workflows.policies import OUTAGE_MAX_BACKOFF

A_YEAR = dt.timedelta(seconds=31_536_000)


async def timers_started(run: Run, code: str) -> list[dt.timedelta]:
    handle = run.client.get_workflow_handle(run.child_id(code))
    return [e.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
            async for e in handle.fetch_history_events() if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED]


async def decision_at(run: Run, code: str, reference: str, decision_id: str, outcome: Outcome) -> AgencyDecision:
    """The agency's webhook as the API signals it, naming `reference`."""
    decision = AgencyDecision(decision_id=decision_id, reference=reference, request_key=run.child_id(code),
                              status=outcome, decided_at=await run.env.get_current_time())
    await run.client.get_workflow_handle(run.child_id(code)).signal(SIGNAL_AGENCY_DECISION, decision)
    return decision


async def test_a_retry_after_of_a_year_waits_ten_minutes_and_the_officer_hears_once_what_was_asked(
    time_env, task_queue
):
    start = await time_env.get_current_time()

    def down(world):
        world.outage_until["parks"] = start + dt.timedelta(minutes=35)
        world.retry_after["parks"] = A_YEAR

    async with running(time_env, task_queue, plan((PARKS, [], [0])), setup=down) as run:
        view = await run.until(lambda v: run.clearance(v, "parks").status == ClearanceStatus.agency_unreachable, "down")
        parks = run.clearance(view, "parks")
        assert "parks asked to be called again in 31536000 s (Retry-After)" in parks.reason
        unreachable = [e for e in view.timeline if e.event == "clearance_agency_unreachable"]
        assert len(unreachable) == 1 and "31536000 s (Retry-After)" in unreachable[0].detail

        await run.skip_to(start + dt.timedelta(minutes=50))
        view = await run.accepted("parks")
        parks = run.clearance(view, "parks")
        # tried again every ten minutes: accepted within ten minutes of the agency's return, not in a year
        assert start + dt.timedelta(minutes=35) <= parks.accepted_at <= start + dt.timedelta(minutes=46)
        assert run.world.submit_attempts["parks"] == 5 and parks.reason is None
        timers = await timers_started(run, "parks")
        assert timers[:4] == [OUTAGE_MAX_BACKOFF] * 4  # the waits between the five attempts (then the SLA's own)
        told = [n for n in run.world.notifications if n.kind == "agency_retry_after_capped"]
        assert [(n.audience, n.agency) for n in told] == [("officer", "parks")]  # once, for five refusals
        assert "31536000 s" in told[0].detail and "600 s" in told[0].detail


async def test_a_decision_naming_another_reference_changes_nothing_and_the_right_one_applies(time_env, task_queue):
    async with running(time_env, task_queue, plan((PARKS, [], [0]))) as run:
        view = await run.accepted("parks")
        ours = run.clearance(view, "parks").reference
        assert ours == "PARKS-0001"

        await decision_at(run, "parks", "PARKS-9999", "dec-1", Outcome.rejected)
        await run.eventually(lambda: True, "signal delivered")
        view = await run.status()
        parks = run.clearance(view, "parks")
        assert parks.status == ClearanceStatus.submitted and parks.decided_at is None and not parks.needs_officer

        # the same decision id, now with the request's reference: not a replay of the refused one
        await decision_at(run, "parks", ours, "dec-1", Outcome.approved)
        view = await run.until(lambda v: run.clearance(v, "parks").status == ClearanceStatus.approved, "approved")
        assert [e.event for e in view.timeline].count("clearance_approved") == 1
        assert not any(e.event == "clearance_rejected" for e in view.timeline)


async def test_a_decision_that_came_before_the_reference_and_names_another_is_dropped(time_env, task_queue):
    start = await time_env.get_current_time()

    def down(world):
        world.outage_until["parks"] = start + dt.timedelta(minutes=5)

    async with running(time_env, task_queue, plan((PARKS, [], [0])), setup=down) as run:
        await run.until(lambda v: run.clearance(v, "parks").status == ClearanceStatus.agency_unreachable, "down")
        await decision_at(run, "parks", "PARKS-9999", "early", Outcome.rejected)  # held until we know our reference

        await run.skip_to(start + dt.timedelta(minutes=10))
        view = await run.accepted("parks")
        await run.skip_to(start + dt.timedelta(minutes=11))
        view = await run.status()
        parks = run.clearance(view, "parks")
        assert parks.reference == "PARKS-0001" and parks.status == ClearanceStatus.submitted
        assert parks.decided_at is None and not parks.rejection_to_confirm

        await run.decide("parks", Outcome.approved_with_conditions, conditions=["keep the paths clear"])
        view = await run.until(
            lambda v: run.clearance(v, "parks").status == ClearanceStatus.approved_with_conditions, "decided")
        assert run.clearance(view, "parks").conditions == ["keep the paths clear"]
