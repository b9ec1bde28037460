"""The permit and clearance workflows on the time-skipping server, against an in-memory agency world."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import itertools
import json
import os
from pathlib import Path

import pytest
from incentive_standin import StandInIncentive
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import default as default_converter
from temporalio.exceptions import CancelledError
from temporalio.worker import Replayer
from wf_harness import (
    CULTURE,
    DISTRICT,
    FEE_TOTAL,
    PARKS,
    POLICE,
    TRANSPORT,
    WORKFLOWS,
    ClearanceInputs,
    Run,
    agency,
    application,
    first_shoot_in,
    plan,
    running,
)

from domain import calendar
from schemas.agency_api import AgencyRequestState
from schemas.application import Expedite
from schemas.contracts import SIGNAL_INCENTIVE_LINKED, UPDATE_DECIDE
from schemas.decisions import OfficerDecision, OfficerDecisionKind, Outcome
from schemas.incentive_contracts import IncentiveLink, PermitEvent, PermitEventKind
from schemas.status import (
    ApplicationStatus,
    ClearanceStatus,
    ClearanceView,
    LocationView,
    OutageEpisode,
    PermitStatusView,
    ShootDayView,
    SlaState,
)
from workflows.permit.review import day_after_last_shoot, day_start
from workflows.permit.search import DEADLINE_KEY, STATUS_KEY

HISTORIES = Path(__file__).parent / "histories"
PARKS_AND_DISTRICT = plan((PARKS, [], [0]), (DISTRICT, [], [1]))


async def pay(run: Run, amount: int = FEE_TOTAL, payment_id: str = "pay-1") -> None:
    await run.pay(amount, payment_id)


async def approve_district_by_poll(run: Run) -> None:
    req = run.world.request_for("district")
    assert req is not None
    req.status, req.decision_id = ClearanceStatus.approved.value, "district-poll-1"  # type: ignore[assignment]
    await run.skip_to(await run.env.get_current_time() + dt.timedelta(minutes=31))


# ---- 1. happy path ------------------------------------------------------------------


async def test_happy_path_parks_and_district_to_issued_and_completed(time_env, task_queue):
    async with running(time_env, task_queue, PARKS_AND_DISTRICT) as run:
        view = await run.until(lambda v: bool(v.clearances) and all(c.accepted_at for c in v.clearances), "both accepted")
        assert view.status == ApplicationStatus.in_review
        assert view.rule_set == "test-2026.1"
        assert view.earliest_feasible_start == dt.date(2027, 1, 4)
        assert run.world.plans_asked == 1  # started without a plan: the workflow planned
        parks = run.clearance(view, "parks")
        assert parks.status == ClearanceStatus.submitted and parks.sla == SlaState.on_track
        assert parks.reference == "PARKS-0001" or parks.reference == "PARKS-0002"
        expected = calendar.sla_deadlines(parks.accepted_at, 5, 5)
        assert parks.due_at == expected.due_at and parks.final_deadline_at == expected.final_at
        assert view.next_deadline == min(c.due_at for c in view.clearances)
        # requests carry only the agency's locations; no foreign crew; the callback URL names the agency
        parks_req, district_req = run.world.request_for("parks"), run.world.request_for("district")
        assert parks_req.locations == ["Taman Suropati"] and district_req.locations == ["Jalan Sabang"]
        assert parks_req.callback_url == "https://api.jfc.test/v1/agencies/parks/decisions"
        assert parks_req.key == run.child_id("parks")

        await run.decide("parks", Outcome.approved_with_conditions, conditions=["no vehicles on the lawn"])
        await run.until(lambda v: run.clearance(v, "parks").status == ClearanceStatus.approved_with_conditions, "parks")
        await approve_district_by_poll(run)
        view = await run.until(lambda v: v.status == ApplicationStatus.awaiting_payment, "awaiting payment")
        assert run.clearance(view, "parks").sla == SlaState.met
        assert run.clearance(view, "parks").conditions == ["no vehicles on the lawn"]
        assert run.clearance(view, "district").status == ClearanceStatus.approved
        assert view.next_deadline is not None  # the payment deadline
        assert "payment_due" in run.world.kinds("applicant")

        await pay(run)
        view = await run.until(lambda v: v.status == ApplicationStatus.issued, "issued")
        assert view.permit is not None and view.permit.verify_url.startswith("https://jfc.test/v1/verify/")
        assert view.fees.payment_id == "pay-1" and view.fees.paid_at is not None
        assert view.next_deadline is None
        issued_to = lambda: {n.audience for n in run.world.notifications if n.kind == "permit_issued"}  # noqa: E731
        await run.eventually(lambda: issued_to() == {"applicant", "agency:parks", "agency:district"}, "permit copies")
        assert [c.agency for c in run.world.issued[0].clearances] == ["parks", "district"]

        final = await run.handle.result()  # skips to the day after the last shoot day
        assert final.status == ApplicationStatus.completed
        app = run.world.issued[0].application
        assert final.locations == [
            LocationView(name=loc.name, kind=loc.kind.value, address=loc.address, city=loc.city,
                         days=[ShootDayView(date=d.date, start=d.start, end=d.end) for d in loc.days])
            for loc in app.locations
        ]
        assert final.locations[0].name == "Taman Suropati" and final.locations[0].kind == "park"
        # the read model's last snapshot is the workflow's own final answer
        assert run.world.projected(run.app_id) == final == await run.status()
        if os.environ.get("JFC_WRITE_HISTORIES") == "1":  # regenerate the replay test's histories
            await save_history(run.handle, "permit.json")
            await save_history(run.client.get_workflow_handle(run.child_id("district")), "clearance.json")
        events = [e.event for e in final.timeline]
        for event in ("submitted", "intake", "planned", "in_review", "clearance_started", "clearance_submitted",
                      "clearance_approved_with_conditions", "clearance_approved", "awaiting_payment", "paid",
                      "issued", "completed"):
            assert event in events, event
        assert all(e.at.tzinfo is not None for e in final.timeline)
        last_day = max(d.date for loc in run.world.issued[0].application.locations for d in loc.days)
        assert final.timeline[-1].event == "completed"
        assert final.timeline[-1].at >= day_after_last_shoot(last_day)


async def save_history(handle, name: str) -> None:
    history = await handle.fetch_history()
    HISTORIES.mkdir(exist_ok=True)
    (HISTORIES / name).write_text(json.dumps(json.loads(history.to_json()), indent=1) + "\n")


async def test_happy_path_without_workflow_cache_on_the_dev_server(dev_env, task_queue):
    """Every workflow task replays from history (max_cached_workflows=0): nondeterminism would fail here.

    Started as the API starts it, with the plan it checked the application against: no planning activity runs."""
    the_plan = plan((PARKS, [], [0]), (agency("district", sla_days=3, mode="webhook"), [], [1]))
    app = application(first_shoot_in(-3))  # shot already: completes right after issue
    sa = TypedSearchAttributes([SearchAttributePair(STATUS_KEY, "submitted")])
    async with running(dev_env, task_queue, the_plan, app=app, max_cached_workflows=0, search_attributes=sa,
                       planned_by_starter=True) as run:
        view = await run.until(lambda v: bool(v.clearances) and all(c.accepted_at for c in v.clearances),
                               "both accepted", timeout=15)
        assert [c.agency for c in view.clearances] == ["parks", "district"] and view.rule_set == the_plan.rule_set
        assert run.world.plans_asked == 0
        described = await run.handle.describe()
        assert described.typed_search_attributes.get(STATUS_KEY) == "in_review"
        assert described.typed_search_attributes.get(DEADLINE_KEY) is not None
        await run.decide("parks", Outcome.approved)
        await run.decide("district", Outcome.approved_with_conditions, conditions=["notify residents"])
        await run.until(lambda v: v.status == ApplicationStatus.awaiting_payment, "awaiting payment", timeout=15)
        await pay(run)
        final = await run.handle.result()
        assert final.status == ApplicationStatus.completed and final.permit is not None
        assert "planned" in [e.event for e in final.timeline] and run.world.plans_asked == 0
        described = await run.handle.describe()
        assert described.typed_search_attributes.get(STATUS_KEY) == "completed"
        assert described.typed_search_attributes.get(DEADLINE_KEY) is None


# ---- 2. silent agency, silence is consent -------------------------------------------


async def test_silent_parks_reminded_breached_then_deemed_approved(time_env, task_queue):
    async with running(time_env, task_queue, plan((PARKS, [], [0]))) as run:
        view = await run.accepted("parks")
        parks = run.clearance(view, "parks")
        d = calendar.sla_deadlines(parks.accepted_at, 5, 5)

        await run.skip_to(d.reminder_at + dt.timedelta(minutes=1))
        view = await run.until(lambda v: run.clearance(v, "parks").sla == SlaState.at_risk, "at risk")
        parks = run.clearance(view, "parks")
        assert d.reminder_at <= parks.reminded_at <= d.reminder_at + dt.timedelta(minutes=1)
        assert parks.breached_at is None
        reminders = [n for n in run.world.notifications if n.kind == "agency_reminder"]
        assert [(n.audience, n.agency) for n in reminders] == [("agency:parks", "parks")]
        assert "sla_breached" not in run.world.kinds()

        await run.skip_to(d.due_at + dt.timedelta(minutes=1))
        view = await run.until(lambda v: run.clearance(v, "parks").sla == SlaState.breached, "breached")
        assert run.world.kinds("officer").count("sla_breached") == 1
        breached_at = run.clearance(view, "parks").breached_at
        assert d.due_at < breached_at <= d.due_at + dt.timedelta(minutes=1)
        assert run.clearance(view, "parks").status == ClearanceStatus.submitted

        await run.skip_to(d.final_at + dt.timedelta(minutes=1))
        view = await run.until(lambda v: v.status == ApplicationStatus.awaiting_payment, "deemed approved")
        parks = run.clearance(view, "parks")
        assert parks.status == ClearanceStatus.deemed_approved
        assert parks.decided_at == d.final_at
        assert parks.sla == SlaState.breached
        assert parks.breached_at == breached_at and parks.reminded_at is not None  # kept once decided
        assert run.world.kinds().count("agency_reminder") == 1
        assert "officer_decision_needed" not in run.world.kinds()
        events = [e.event for e in view.timeline]
        assert "sla_at_risk" in events and "sla_breached" in events and "clearance_deemed_approved" in events


# ---- 3. silent police, an officer decides --------------------------------------------


async def test_silent_police_goes_to_officer_who_approves(time_env, task_queue):
    async with running(time_env, task_queue, plan((POLICE, [], [0, 1]))) as run:
        view = await run.accepted("police")
        police = run.clearance(view, "police")
        d = calendar.sla_deadlines(police.accepted_at, 14, 5)
        await run.skip_to(d.final_at + dt.timedelta(hours=1))
        view = await run.until(lambda v: v.status == ApplicationStatus.officer_review, "officer review")
        police = run.clearance(view, "police")
        assert police.needs_officer and police.status == ClearanceStatus.submitted and police.sla == SlaState.breached
        assert "officer_decision_needed" in run.world.kinds("officer")

        await run.officer_decides("police", Outcome.approved, "traffic plan checked with Polda by phone")
        view = await run.until(lambda v: v.status == ApplicationStatus.awaiting_payment, "awaiting payment")
        police = run.clearance(view, "police")
        assert police.status == ClearanceStatus.approved and not police.needs_officer
        assert police.decided_by == "officer:dewi" and police.reason == "traffic plan checked with Polda by phone"
        approved = next(e for e in view.timeline if e.event == "clearance_approved")
        assert approved.actor == "officer:dewi"  # the audit log names the officer from this field
        assert police.decided_at > police.due_at and police.sla == SlaState.breached


# ---- 4. agency outage ---------------------------------------------------------------


async def test_six_hour_outage_shows_at_once_then_one_request_and_sla_from_acceptance(time_env, task_queue):
    start = await time_env.get_current_time()

    def down(world):
        world.outage_until["parks"] = start + dt.timedelta(hours=6)
        world.retry_after["parks"] = dt.timedelta(minutes=20)  # the agency's Retry-After, honoured up to 10 minutes

    async with running(time_env, task_queue, plan((PARKS, [], [0])), setup=down) as run:
        # the first failed call shows the outage, with its time: no round of retries first
        view = await run.until(lambda v: run.clearance(v, "parks").status == ClearanceStatus.agency_unreachable, "down")
        parks = run.clearance(view, "parks")
        assert run.world.submit_attempts["parks"] == 1 and parks.failed_attempts == 1
        assert start <= parks.outages[0].started_at < start + dt.timedelta(seconds=5)
        assert parks.accepted_at is None and parks.due_at is None and parks.sla is None
        assert view.status == ApplicationStatus.in_review

        await run.skip_to(start + dt.timedelta(hours=7, minutes=30))
        view = await run.accepted("parks")
        parks = run.clearance(view, "parks")
        assert len(run.world.requests) == 1
        assert run.world.request_for("parks").times_seen == 1
        assert parks.accepted_at >= start + dt.timedelta(hours=6)
        assert parks.requested_at < start + dt.timedelta(minutes=1)
        assert parks.due_at == calendar.sla_deadlines(parks.accepted_at, 5, 5).due_at  # the SLA starts at acceptance
        assert parks.status == ClearanceStatus.submitted and parks.reason is None
        # one outage episode: from the first failed call to acceptance, with every failed attempt in it
        assert parks.outages == [
            OutageEpisode(started_at=parks.outages[0].started_at, recovered_at=parks.accepted_at,
                          failed_attempts=parks.failed_attempts)
        ]
        # one attempt every 10 minutes (Retry-After beats the short backoff, up to the longest backoff) for six
        # hours, then the one accepted; the officer heard once that the agency asked for longer
        assert parks.failed_attempts == run.world.submit_attempts["parks"] - 1
        assert 6 * 6 - 1 <= parks.failed_attempts <= 6 * 6 + 1
        assert run.world.kinds("officer").count("agency_unreachable") == 1
        assert run.world.kinds("officer").count("agency_retry_after_capped") == 1
        events = [e.event for e in view.timeline]
        assert events.index("clearance_agency_unreachable") < events.index("clearance_submitted")


async def clearance_runs(run: Run, code: str) -> list[tuple[str, int, EventType.ValueType]]:
    """The clearance's runs, first to last, as (run id, history length, last event), chained by continue-as-new."""
    parent = await run.handle.fetch_history()
    run_id = next(
        e.child_workflow_execution_started_event_attributes.workflow_execution.run_id
        for e in parent.events
        if e.child_workflow_execution_started_event_attributes.workflow_execution.workflow_id == run.child_id(code)
    )
    runs = []
    while run_id:
        history = await run.client.get_workflow_handle(run.child_id(code), run_id=run_id).fetch_history()
        last = history.events[-1]
        runs.append((run_id, len(history.events), last.event_type))
        run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
    return runs


async def child_completed_in_parent(run: Run, code: str) -> None:
    """The parent's child handle resolved: its history records the clearance's completion (its last run's result)."""
    for _ in range(100):
        parent = await run.handle.fetch_history()
        completed = [e.child_workflow_execution_completed_event_attributes.workflow_execution.workflow_id
                     for e in parent.events if e.event_type == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED]
        if completed:
            assert completed == [run.child_id(code)]
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the parent never saw clearance {code} complete")


async def signals_received(handle) -> int:
    return len([e async for e in handle.fetch_history_events()
                if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED])


async def test_days_long_outage_continues_as_new_keeps_one_episode_and_a_short_parent_history(time_env, task_queue):
    start = await time_env.get_current_time()

    def down(world):
        world.outage_until["parks"] = start + dt.timedelta(days=2)
        world.retry_after["parks"] = dt.timedelta(minutes=10)  # one attempt every ten minutes

    limit = ClearanceInputs(continue_as_new_after_events=60)
    async with running(time_env, task_queue, plan((PARKS, [], [0])), setup=down, interceptors=[limit]) as run:
        await run.skip_to(start + dt.timedelta(days=2, hours=5))
        view = await run.accepted("parks")
        parks = run.clearance(view, "parks")
        # the new runs took over the request: one request, accepted once the agency was back
        assert len(run.world.requests) == 1 and run.world.request_for("parks").times_seen == 1
        assert parks.accepted_at >= start + dt.timedelta(days=2)
        assert parks.requested_at < start + dt.timedelta(minutes=1)
        assert parks.due_at == calendar.sla_deadlines(parks.accepted_at, 5, 5).due_at
        assert parks.status == ClearanceStatus.submitted and parks.reason is None
        # one outage episode across every run, with every failed attempt of every run in it
        assert parks.outages == [
            OutageEpisode(started_at=parks.outages[0].started_at, recovered_at=parks.accepted_at,
                          failed_attempts=parks.failed_attempts)
        ]
        assert start <= parks.outages[0].started_at < start + dt.timedelta(seconds=5)
        assert parks.failed_attempts == run.world.submit_attempts["parks"] - 1 >= 2 * 24 * 6 - 1
        assert run.world.kinds("officer").count("agency_unreachable") == 1
        # the parent heard of the outage when it began and when it ended, never of each failed attempt
        assert await signals_received(run.handle) == 2
        assert len((await run.handle.fetch_history()).events) < 100

        # a decision signalled by workflow id reaches the current run; the parent's child handle gets the result
        await run.decide("parks", Outcome.approved)
        view = await run.until(lambda v: v.status == ApplicationStatus.awaiting_payment, "awaiting payment")
        parks = run.clearance(view, "parks")
        assert parks.status == ClearanceStatus.approved and parks.outages[0].recovered_at == parks.accepted_at

        await child_completed_in_parent(run, "parks")
        runs = await clearance_runs(run, "parks")
        assert len(runs) >= 3, runs
        assert all(last == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW for _, _, last in runs[:-1])
        assert runs[-1][2] == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
        assert all(length < 60 + 20 for _, length, _ in runs[:-1]), runs  # each run stopped soon after the limit
        described = await run.client.get_workflow_handle(run.child_id("parks")).describe()
        assert described.run_id == runs[-1][0] != runs[0][0]
        # the first run, ended by continue-as-new, replays with today's code
        first = await run.client.get_workflow_handle(run.child_id("parks"), run_id=runs[0][0]).fetch_history()
        replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
        assert (await replayer.replay_workflow(first, raise_on_replay_failure=True)).replay_failure is None


async def test_officer_decision_reaches_a_clearance_continued_as_new(time_env, task_queue):
    start = await time_env.get_current_time()

    def down(world):
        world.outage_until["parks"] = start + dt.timedelta(days=30)
        world.retry_after["parks"] = dt.timedelta(hours=1)  # asked; one attempt every ten minutes

    limit = ClearanceInputs(continue_as_new_after_events=60)
    async with running(time_env, task_queue, plan((PARKS, [], [0])), setup=down, interceptors=[limit],
                       max_cached_workflows=0) as run:  # every task replays: the restored state must be deterministic
        await run.skip_to(start + dt.timedelta(hours=2, minutes=30))
        await run.eventually(lambda: run.world.submit_attempts.get("parks", 0) >= 10, "ten failed attempts")
        assert len(await clearance_runs(run, "parks")) >= 2
        await run.officer_decides("parks", Outcome.approved, "agency down for days")
        view = await run.until(lambda v: v.status == ApplicationStatus.awaiting_payment, "awaiting payment")
        parks = run.clearance(view, "parks")
        assert parks.status == ClearanceStatus.approved and parks.decided_by == "officer:dewi"
        assert len(parks.outages) == 1 and parks.outages[0].failed_attempts == parks.failed_attempts >= 10
        assert run.world.requests == {}  # the agency never took the request
        await child_completed_in_parent(run, "parks")
        runs = await clearance_runs(run, "parks")
        assert runs[-1][2] == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED


async def test_lost_response_is_retried_without_a_second_request(time_env, task_queue):
    async with running(time_env, task_queue, plan((PARKS, [], [0])), setup=lambda w: w.lose_first_response.add("parks")) as run:
        view = await run.accepted("parks")
        parks = run.clearance(view, "parks")
        assert len(run.world.requests) == 1 and run.world.request_for("parks").times_seen == 2
        assert parks.reference == "PARKS-0001"
        # the lost answer counted as one failed attempt of a short outage, recovered at acceptance
        assert parks.failed_attempts == 1
        assert parks.outages == [OutageEpisode(started_at=parks.outages[0].started_at, recovered_at=parks.accepted_at,
                                               failed_attempts=1)]
        assert parks.accepted_at - parks.outages[0].started_at < dt.timedelta(seconds=10)


async def test_refused_request_waits_for_an_officer(time_env, task_queue):
    async with running(time_env, task_queue, plan((PARKS, [], [0])), setup=lambda w: w.refuse.add("parks")) as run:
        view = await run.until(lambda v: v.status == ApplicationStatus.officer_review, "officer review")
        parks = run.clearance(view, "parks")
        assert parks.status == ClearanceStatus.submitting and parks.needs_officer
        assert "422" in parks.reason and run.world.submit_attempts["parks"] == 1
        await run.officer_decides("parks", Outcome.rejected, "outside Jakarta")
        final = await run.handle.result()
        assert final.status == ApplicationStatus.rejected
        parks = run.clearance(final, "parks")
        assert parks.sla is None and parks.decided_by == "officer:dewi" and not parks.rejection_to_confirm


# ---- 4b. lost webhooks ----------------------------------------------------------------


async def test_a_webhook_agency_heard_nothing_is_polled_after_the_reconcile_delay(time_env, task_queue):
    async with running(time_env, task_queue, plan((PARKS, [], [0]))) as run:
        view = await run.accepted("parks")
        accepted_at = run.clearance(view, "parks").accepted_at
        req = run.world.request_for("parks")
        # the agency decides, and its webhook is lost
        req.status, req.decision_id = AgencyRequestState.approved, "DEC-LOST"
        await run.skip_to(accepted_at + dt.timedelta(minutes=59))
        assert run.world.status_polls == [] and run.clearance(await run.status(), "parks").status == ClearanceStatus.submitted
        await run.skip_to(accepted_at + dt.timedelta(minutes=61))
        view = await run.until(lambda v: v.status == ApplicationStatus.awaiting_payment, "reconciled")
        parks = run.clearance(view, "parks")
        assert parks.status == ClearanceStatus.approved and parks.sla == SlaState.met
        (polled,) = run.world.status_polls
        assert polled[0] == run.child_id("parks") and polled[1] >= accepted_at + dt.timedelta(minutes=60)
        # (a webhook turning up after that finds the clearance closed: tests/e2e/test_agency_trouble.py)


async def test_a_decision_heard_by_webhook_and_then_by_poll_counts_once(time_env, task_queue):
    async with running(time_env, task_queue, plan((PARKS, [], [0]))) as run:
        await run.accepted("parks")
        req = run.world.request_for("parks")
        asked = await run.decide("parks", Outcome.information_required, decision_id="DEC-Q", reason="Which lawn?")
        req.status, req.decision_id = AgencyRequestState.information_required, "DEC-Q"  # what a poll will read
        await run.until(lambda v: v.status == ApplicationStatus.awaiting_information, "asked")
        await run.answer("parks", asked.decision_id, "North lawn")
        view = await run.until(lambda v: run.clearance(v, "parks").status == ClearanceStatus.submitted, "answered")
        # the agency has not decided again yet: the next poll still reads the question it already asked
        await run.skip_to(run.clearance(view, "parks").accepted_at + dt.timedelta(days=1))
        await run.eventually(lambda: len(run.world.status_polls) >= 1, "polled")
        view = await run.status()
        assert run.clearance(view, "parks").status == ClearanceStatus.submitted
        assert run.world.kinds("applicant").count("information_required") == 1


# ---- 5. information required ----------------------------------------------------------


async def test_information_required_pauses_sla_then_answer_resumes(time_env, task_queue):
    async with running(time_env, task_queue, plan((PARKS, [], [0]))) as run:
        view = await run.accepted("parks")
        accepted_at = run.clearance(view, "parks").accepted_at
        before = calendar.sla_deadlines(accepted_at, 5, 5)
        asked = await run.decide("parks", Outcome.information_required, reason="Which lawn areas exactly?")
        view = await run.until(lambda v: v.status == ApplicationStatus.awaiting_information, "awaiting information")
        parks = run.clearance(view, "parks")
        assert parks.sla == SlaState.paused and parks.information_request_id == asked.decision_id
        assert parks.reason == "Which lawn areas exactly?"
        asked_at = (await run.env.get_current_time())
        assert parks.information_deadline_at == calendar.business_deadline(asked_at, 10) or parks.information_deadline_at
        assert view.next_deadline == parks.information_deadline_at
        assert "information_required" in run.world.kinds("applicant")

        await run.env.sleep(dt.timedelta(days=7))
        await run.answer("parks", asked.decision_id, "North lawn only")
        view = await run.until(lambda v: run.clearance(v, "parks").status == ClearanceStatus.submitted, "resumed")
        parks = run.clearance(view, "parks")
        assert run.world.answers[0].answer == "North lawn only" and run.world.answers[0].reference == parks.reference
        answered_at = await run.env.get_current_time()
        paused = calendar.business_days_between(asked_at, answered_at)
        assert paused >= 1
        assert parks.due_at == calendar.sla_deadlines(accepted_at, 5, 5, paused).due_at > before.due_at
        assert parks.information_request_id is None and parks.sla in (SlaState.on_track, SlaState.at_risk)
        assert view.status == ApplicationStatus.in_review

        await run.decide("parks", Outcome.approved)
        view = await run.until(lambda v: v.status == ApplicationStatus.awaiting_payment, "awaiting payment")
        assert run.clearance(view, "parks").sla == SlaState.met


async def test_information_never_answered_lapses_the_application(time_env, task_queue):
    async with running(time_env, task_queue, plan((PARKS, [], [0]), (POLICE, [], [0, 1]))) as run:
        await run.until(lambda v: bool(v.clearances) and all(c.accepted_at for c in v.clearances), "both accepted")
        await run.decide("parks", Outcome.information_required, reason="Insurance certificate?")
        await run.until(lambda v: v.status == ApplicationStatus.awaiting_information, "awaiting information")
        final = await run.handle.result()  # skips past the 10 business days
        assert final.status == ApplicationStatus.lapsed
        parks, police = run.clearance(final, "parks"), run.clearance(final, "police")
        assert parks.status == ClearanceStatus.information_required and parks.lapsed_at is not None
        assert parks.reason == "lapsed: no answer within 10 business days"
        assert parks.lapsed_at >= parks.information_deadline_at
        assert police.status == ClearanceStatus.withdrawn
        assert set(run.world.withdrawn) == {run.child_id("parks"), run.child_id("police")}


# ---- 6. rejection --------------------------------------------------------------------


async def test_rejection_rejects_the_application_and_withdraws_the_others(dev_env, task_queue):
    """An agency's rejection waits for an officer to confirm it; confirmed, it rejects the application."""
    async with running(dev_env, task_queue, PARKS_AND_DISTRICT) as run:
        await run.until(lambda v: bool(v.clearances) and all(c.accepted_at for c in v.clearances), "both accepted",
                        timeout=15)
        await run.decide("parks", Outcome.rejected, reason="the lawn is being reseeded")
        view = await run.until(lambda v: v.status == ApplicationStatus.officer_review, "a rejection to confirm",
                               timeout=15)
        parks = run.clearance(view, "parks")
        assert parks.status == ClearanceStatus.rejected and parks.needs_officer and parks.rejection_to_confirm
        assert parks.reason == "the lawn is being reseeded" and parks.decided_by is None
        assert run.clearance(view, "district").status == ClearanceStatus.submitted  # still open meanwhile
        assert run.world.withdrawn == [] and "rejection_to_confirm" in run.world.kinds("officer")
        await run.handle.execute_update(UPDATE_DECIDE, OfficerDecision(
            kind=OfficerDecisionKind.clearance, agency="parks", outcome=Outcome.rejected, reason="reseeding confirmed",
            officer="officer:ani"))
        final = await asyncio.wait_for(run.handle.result(), timeout=30)
        assert final.status == ApplicationStatus.rejected
        assert run.clearance(final, "parks").status == ClearanceStatus.rejected
        district = run.clearance(final, "district")
        assert district.status == ClearanceStatus.withdrawn
        assert run.world.withdrawn == [run.child_id("district")]
        assert run.world.request_for("district").status.value == "withdrawn"
        child = await run.client.get_workflow_handle(run.child_id("district")).describe()
        assert child.status == WorkflowExecutionStatus.CANCELED
        rejected = [e for e in final.timeline if e.event == "rejected"]
        assert rejected and "reseeded" in rejected[0].detail
        confirmed = [e for e in final.timeline if e.event == "rejection_confirmed"]
        assert [(e.detail, e.actor) for e in confirmed] == [("parks: reseeding confirmed", "officer:ani")]
        assert "application_rejected" in run.world.kinds("applicant")


async def test_cancelled_application_withdraws_open_requests_and_keeps_its_history(dev_env, task_queue):
    """On the dev server: the time-skipping server could skip to district's next poll while the cancellation was
    on its way to the clearance, then refuse to cancel the poll it had just handed out (ACTIVITY_UNKNOWN) and
    never recover (about 1 run in 130)."""
    async with running(dev_env, task_queue, PARKS_AND_DISTRICT) as run:
        await run.until(lambda v: bool(v.clearances) and all(c.accepted_at for c in v.clearances), "both accepted")
        await run.decide("parks", Outcome.approved)
        await run.until(lambda v: run.clearance(v, "parks").status == ClearanceStatus.approved, "parks approved")
        await run.handle.cancel()
        with pytest.raises(WorkflowFailureError) as failure:
            await asyncio.wait_for(run.handle.result(), 30)  # real time: it ends at once, or never
        assert isinstance(failure.value.cause, CancelledError)
        assert run.world.withdrawn == [run.child_id("district")]  # the approved one is not withdrawn
        described = await run.handle.describe()
        assert described.status == WorkflowExecutionStatus.CANCELED
        view = await run.status()  # queries still answer on a closed workflow
        assert view.status == ApplicationStatus.withdrawn
        assert run.world.projected(run.app_id) == view  # projected before the cancellation completed
        assert "application_withdrawn" in run.world.kinds("applicant")  # sent, and drained, before it ended
        assert run.clearance(view, "district").status == ClearanceStatus.withdrawn
        assert run.clearance(view, "parks").status == ClearanceStatus.approved


# ---- 7. dependencies -----------------------------------------------------------------


async def test_police_starts_only_after_transport_and_culture_approve(time_env, task_queue):
    the_plan = plan((TRANSPORT, [], [1]), (POLICE, ["transport", "culture_ministry"], [0, 1]), (CULTURE, [], [0, 1]))
    app = application(first_shoot_in(60), foreign=True)
    async with running(time_env, task_queue, the_plan, app=app) as run:
        view = await run.until(lambda v: run.clearance(v, "transport").accepted_at and run.clearance(v, "culture_ministry").accepted_at, "two accepted")
        assert run.clearance(view, "police").status == ClearanceStatus.waiting_on_dependency
        assert run.clearance(view, "police").depends_on == ["transport", "culture_ministry"]
        assert run.world.request_for("police") is None
        assert run.world.request_for("transport").foreign_crew == 0 and run.world.request_for("culture_ministry").foreign_crew == 1

        await run.decide("transport", Outcome.approved)
        await run.until(lambda v: run.clearance(v, "transport").status == ClearanceStatus.approved, "transport approved")
        assert run.world.request_for("police") is None  # still waits for culture_ministry
        await run.decide("culture_ministry", Outcome.approved_with_conditions, conditions=["KITAS for the director"])
        view = await run.accepted("police")
        police = run.clearance(view, "police")
        assert police.depends_on == ["transport", "culture_ministry"]
        assert police.accepted_at >= run.clearance(view, "transport").decided_at
        assert run.world.request_for("police").foreign_crew == 1
        await run.decide("police", Outcome.approved)
        await run.until(lambda v: v.status == ApplicationStatus.awaiting_payment, "awaiting payment")


# ---- 8. duplicate decision -------------------------------------------------------------


async def test_duplicate_agency_decision_changes_nothing(time_env, task_queue):
    async with running(time_env, task_queue, plan((PARKS, [], [0]))) as run:
        await run.accepted("parks")
        first = await run.decide("parks", Outcome.information_required, decision_id="dec-1", reason="Which lawn?")
        await run.until(lambda v: v.status == ApplicationStatus.awaiting_information, "awaiting information")
        await run.decide("parks", Outcome.approved, decision_id="dec-1")  # a replayed webhook with the same id
        # a decision for someone else's request key is ignored as well
        other = first.model_copy(update={"decision_id": "dec-2", "request_key": "PRM-OTHER:parks:r1", "status": Outcome.approved})
        await run.client.get_workflow_handle(run.child_id("parks")).signal("agency_decision", other)
        view = await run.client.get_workflow_handle(run.child_id("parks")).query("view", result_type=ClearanceView)
        assert view.status == ClearanceStatus.information_required and view.information_request_id == "dec-1"
        status = await run.status()
        assert status.status == ApplicationStatus.awaiting_information
        assert run.world.kinds("applicant").count("information_required") == 1


async def timer_events(run: Run, code: str) -> collections.Counter[str]:
    """How many timers the clearance's history started, fired and cancelled."""
    history = await run.client.get_workflow_handle(run.child_id(code)).fetch_history()
    return collections.Counter(kind for e in history.events for kind in ("timer_started", "timer_fired", "timer_canceled")
                               if e.HasField(f"{kind}_event_attributes"))


async def test_a_decided_clearance_leaves_its_sla_timer_and_an_information_request_cancels_it(time_env, task_queue):
    """The wait for a decision keeps one timer for its next moment: a decision ends the clearance without a
    TimerCanceled event; an information request cancels it (it would fire for nothing while the applicant answers)."""
    the_plan = plan((PARKS, [], [0]), (agency("district", sla_days=3, mode="webhook"), [], [1]))
    async with running(time_env, task_queue, the_plan) as run:
        await run.accepted("parks")
        await run.accepted("district")
        await run.decide("parks", Outcome.approved)
        await run.decide("district", Outcome.information_required, decision_id="dec-1", reason="Which street?")
        await run.client.get_workflow_handle(run.child_id("parks")).result()
        await run.until(lambda v: v.status == ApplicationStatus.awaiting_information, "awaiting information")
        assert await timer_events(run, "parks") == {"timer_started": 1}
        assert await timer_events(run, "district") == {"timer_started": 2, "timer_canceled": 1}  # then the answer's


# ---- 9. payment never comes ------------------------------------------------------------


async def test_payment_mismatch_then_no_payment_lapses(time_env, task_queue):
    async with running(time_env, task_queue, plan((PARKS, [], [0]))) as run:
        await run.accepted("parks")
        await run.decide("parks", Outcome.approved)
        await run.until(lambda v: v.status == ApplicationStatus.awaiting_payment, "awaiting payment")
        await pay(run, amount=FEE_TOTAL - 1, payment_id="short")
        await pay(run, amount=FEE_TOTAL - 1, payment_id="short")  # the same payment twice is seen once
        view = await run.until(lambda v: any(e.event == "payment_mismatch" for e in v.timeline), "mismatch")
        assert view.status == ApplicationStatus.awaiting_payment
        final = await run.handle.result()
        assert final.status == ApplicationStatus.lapsed
        assert [e.event for e in final.timeline].count("payment_mismatch") == 1
        assert final.fees.paid_at is None and final.permit is None
        lapsed = [e for e in final.timeline if e.event == "lapsed"]
        assert "no payment within 5 business days" in lapsed[0].detail


# ---- read model projections ---------------------------------------------------------------


async def test_projections_follow_every_change_and_end_with_the_final_status(time_env, task_queue):
    async with running(time_env, task_queue, plan((PARKS, [], [0]))) as run:
        await run.accepted("parks")
        await run.decide("parks", Outcome.approved)
        await run.until(lambda v: v.status == ApplicationStatus.awaiting_payment, "awaiting payment")
        await pay(run)
        final = await run.handle.result()
        snapshots = run.world.projections[run.app_id]
        seqs = sorted(snapshots)
        assert len(seqs) >= 3 and seqs[0] >= 1
        statuses = [snapshots[q].status for q in seqs]
        assert statuses[-1] == ApplicationStatus.completed
        assert ApplicationStatus.awaiting_payment in statuses  # the read model saw the application wait for payment
        # each later snapshot extends the earlier ones' timelines: nothing is rewritten, nothing lost
        for earlier, later in itertools.pairwise(seqs):
            assert snapshots[later].timeline[: len(snapshots[earlier].timeline)] == snapshots[earlier].timeline
        assert snapshots[seqs[-1]] == final == await run.status()


async def test_a_read_model_outage_never_holds_up_the_application(time_env, task_queue):
    """Projections fail (PostgreSQL down) while the application goes on to issue; afterwards they catch up."""
    def db_down(world):
        world.record_failures = 10**9

    async with running(time_env, task_queue, plan((PARKS, [], [0])), app=application(first_shoot_in(-3)),
                       setup=db_down) as run:
        await run.accepted("parks")
        await run.decide("parks", Outcome.approved)
        await run.until(lambda v: v.status == ApplicationStatus.awaiting_payment, "awaiting payment")
        await pay(run)
        await run.until(lambda v: v.status == ApplicationStatus.completed, "completed while the read model is down")
        assert run.world.projections == {}
        assert (await run.handle.describe()).status == WorkflowExecutionStatus.RUNNING  # waits for the read model
        run.world.record_failures = 0  # PostgreSQL is back
        final = await run.handle.result()
        assert final.status == ApplicationStatus.completed
        assert run.world.projected(run.app_id) == final


# ---- intake ------------------------------------------------------------------------------


async def test_short_lead_time_with_expedite_waits_for_officer(dev_env, task_queue):
    app = application(first_shoot_in(10)).model_copy(update={"expedite": Expedite(requested=True, reason="festival deadline")})
    async with running(dev_env, task_queue, plan((PARKS, [], [0]), lead_time_ok=False), app=app) as run:
        view = await run.until(lambda v: v.status == ApplicationStatus.officer_review, "officer review", timeout=15)
        assert view.awaiting_expedite and "expedite_requested" in run.world.kinds("officer")
        view = await run.handle.execute_update(UPDATE_DECIDE, OfficerDecision(
            kind=OfficerDecisionKind.expedite, outcome=Outcome.rejected, reason="no capacity", officer="officer:ani"),
            result_type=PermitStatusView)
        assert view.status == ApplicationStatus.rejected and not view.awaiting_expedite
        refused = next(e for e in view.timeline if e.event == "expedite_refused")
        assert (refused.detail, refused.actor) == ("no capacity", "officer:ani")
        final = await asyncio.wait_for(run.handle.result(), timeout=30)
        assert final.status == ApplicationStatus.rejected and final.clearances == []
        assert "application_rejected" in run.world.kinds("applicant")


async def test_short_lead_time_without_expedite_is_rejected(time_env, task_queue):
    async with running(time_env, task_queue, plan((PARKS, [], [0]), lead_time_ok=False)) as run:
        final = await run.handle.result()
        assert final.status == ApplicationStatus.rejected
        assert "earliest feasible start 2027-01-04" in next(e.detail for e in final.timeline if e.event == "rejected")


# ---- search attributes -----------------------------------------------------------------


async def test_search_attributes_follow_status_and_deadline(dev_env, task_queue):
    sa = TypedSearchAttributes([SearchAttributePair(STATUS_KEY, "submitted")])
    async with running(dev_env, task_queue, plan((PARKS, [], [0])), search_attributes=sa) as run:
        view = await run.until(lambda v: run.clearance(v, "parks").accepted_at is not None, "accepted", timeout=15)
        await run.decide("parks", Outcome.rejected, reason="no")
        await run.until(lambda v: v.status == ApplicationStatus.officer_review, "a rejection to confirm", timeout=15)
        await run.handle.execute_update(UPDATE_DECIDE, OfficerDecision(
            kind=OfficerDecisionKind.clearance, agency="parks", outcome=Outcome.rejected, reason="confirmed"))
        await asyncio.wait_for(run.handle.result(), timeout=30)
        statuses, deadlines = [], []
        async for event in run.handle.fetch_history_events():
            if event.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
                fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
                if STATUS_KEY.name in fields:
                    statuses.append(default_converter().payload_converter.from_payload(fields[STATUS_KEY.name]))
                if DEADLINE_KEY.name in fields:
                    deadlines.append(default_converter().payload_converter.from_payload(fields[DEADLINE_KEY.name]))
        assert statuses == ["intake", "in_review", "officer_review", "rejected"]
        due = run.clearance(view, "parks").due_at
        assert deadlines[0] is not None and dt.datetime.fromisoformat(deadlines[0]) == due
        assert deadlines[-1] is None  # unset when nothing is open


# ---- linked incentives -------------------------------------------------------------------------


async def test_linked_incentives_hear_of_photography_and_of_its_end_and_a_closed_permit(time_env, task_queue):
    async with running(time_env, task_queue, plan((PARKS, [], [0])), extra_workflows=[StandInIncentive]) as run:
        incentive = await time_env.client.start_workflow(StandInIncentive.run, id="INC-LINKEDAAAAAA",
                                                         task_queue=task_queue)
        await run.handle.signal(SIGNAL_INCENTIVE_LINKED, IncentiveLink(incentive_id="INC-LINKEDAAAAAA"))
        await run.accepted("parks")
        await run.decide("parks", Outcome.approved)
        await run.until(lambda v: v.status == ApplicationStatus.awaiting_payment, "awaiting payment")
        await pay(run)
        issued = await run.until(lambda v: v.status == ApplicationStatus.issued, "issued")
        assert "incentive_linked" in [e.event for e in issued.timeline]

        async def told() -> list[PermitEvent]:
            return await incentive.query("events", result_type=list[PermitEvent])

        assert await told() == []  # photography has not begun: the first shoot day is weeks away
        app = run.world.issued[0].application
        final = await run.handle.result()  # skips to the day after the last shoot day
        events = await told()
        assert [e.kind for e in events] == [PermitEventKind.photography_started, PermitEventKind.photography_ended]
        assert events[0].at >= day_start(app.first_shoot_date) and events[1].at >= day_after_last_shoot(app.last_shoot_date)
        assert events[1].shoot_dates == sorted({d.date for loc in app.locations for d in loc.days})
        assert final.status == ApplicationStatus.completed

    async with running(time_env, task_queue, plan((PARKS, [], [0])), extra_workflows=[StandInIncentive]) as run:
        incentive = await time_env.client.start_workflow(StandInIncentive.run, id="INC-LINKEDBBBBBB",
                                                         task_queue=task_queue)
        await run.handle.signal(SIGNAL_INCENTIVE_LINKED, IncentiveLink(incentive_id="INC-LINKEDBBBBBB"))
        await run.accepted("parks")
        await run.handle.cancel()
        with pytest.raises(WorkflowFailureError):
            await run.handle.result()
        events = await incentive.query("events", result_type=list[PermitEvent])
        assert [(e.kind, e.status) for e in events] == [(PermitEventKind.permit_closed, "withdrawn")]
