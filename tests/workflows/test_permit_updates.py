"""People's actions as workflow updates (cancel, amend, answer_information, decide) on the dev server.

The time-skipping server does not support updates, so these run on the shared dev server in real
time, against the in-memory agency world of wf_harness (agencies in webhook mode: no polling).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError
from wf_harness import PARKS, ClearanceInputs, Run, agency, application, first_shoot_in, running

from schemas.application import Applicant, Location, LocationKind, PermitApplication, ShootDay
from schemas.contracts import (
    UPDATE_AMEND,
    UPDATE_ANSWER,
    UPDATE_CANCEL,
    UPDATE_DECIDE,
    ApplicationPlan,
    PlanInput,
    RoutedAgency,
)
from schemas.decisions import (
    Amendment,
    AmendmentResult,
    CancelRequest,
    InformationAnswer,
    OfficerDecision,
    OfficerDecisionKind,
    Outcome,
    Payment,
)
from schemas.status import ApplicationStatus, ClearanceStatus, FeeLine, Fees, PermitStatusView, location_views

DISTRICT = agency("district", sla_days=3, mode="webhook")
AVIATION = agency("aviation", sla_days=14, consent=False)
DAY_FEE = 1_250_000
T = 20  # seconds: real time on the dev server


def route(inp: PlanInput) -> ApplicationPlan:
    """A small rule set: parks for parks, district for streets, aviation for drones; fees per location-day."""
    by_code: dict[str, tuple] = {}
    for i, loc in enumerate(inp.application.locations):
        codes = {LocationKind.park: [PARKS], LocationKind.public_street: [DISTRICT]}.get(loc.kind, [])
        for a in [*codes, *([AVIATION] if loc.drone else [])]:
            by_code.setdefault(a.code.value, (a, []))[1].append(i)
    days = sum(len(loc.days) for loc in inp.application.locations)
    return ApplicationPlan(
        rule_set="test-2026.1",
        agencies=[RoutedAgency(agency=a, location_indexes=idx, reasons=["test"]) for a, idx in by_code.values()],
        lead_time_business_days=5,
        earliest_feasible_start=dt.date(2026, 1, 5),
        lead_time_ok=True,
        fees=Fees(schedule_version="fees-test", total_idr=days * DAY_FEE,
                  lines=[FeeLine(description="location day", location="all", days=days, unit_idr=DAY_FEE,
                                 amount_idr=days * DAY_FEE)]),
        information_reply_business_days=10,
        payment_business_days=5,
    )


def app_with_webhook(first: dt.date | None = None) -> PermitApplication:
    app = application(first or first_shoot_in(30))
    applicant = Applicant.model_validate({**app.applicant.model_dump(), "webhook_url": "https://hooks.contoh.id/jfc"})
    return app.model_copy(update={"applicant": applicant})


def with_location(app: PermitApplication, i: int, **changes) -> PermitApplication:
    locations = list(app.locations)
    locations[i] = Location.model_validate({**locations[i].model_dump(), **changes})
    return app.model_copy(update={"locations": locations})


def moved_days(app: PermitApplication, i: int, by: int) -> list[dict]:
    return [ShootDay(date=d.date + dt.timedelta(days=by), start=d.start, end=d.end).model_dump() for d in app.locations[i].days]


def started(world) -> None:
    world.planner = route


async def both_accepted(run: Run) -> PermitStatusView:
    return await run.until(lambda v: len(v.clearances) == 2 and all(c.accepted_at for c in v.clearances),
                           "both accepted", timeout=T)


async def update_events(run: Run) -> list[EventType]:
    kinds = (EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED)
    return [e.event_type async for e in run.handle.fetch_history_events() if e.event_type in kinds]


async def refused(run: Run, update: str, arg, *, contains: str) -> str:
    """The update is refused by its validator: an error naming the problem, and nothing in history."""
    before = await update_events(run)
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await run.handle.execute_update(update, arg)
    message = str(failure.value.cause)
    assert contains in message, message
    assert await update_events(run) == before  # refused before it entered history
    return message


# ---- cancel ----------------------------------------------------------------------------


async def test_cancel_during_an_agency_outage_withdraws_each_request_once_after_recovery(dev_env, task_queue):
    async with running(dev_env, task_queue, route(PlanInput(application=app_with_webhook(), submitted_at=dt.datetime.now(dt.UTC))),
                       app=app_with_webhook(), organisation_id="ORG-CONTOH", setup=started) as run:
        await both_accepted(run)
        down_until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=4)
        run.world.outage_until.update(parks=down_until, district=down_until)
        view = await run.handle.execute_update(
            UPDATE_CANCEL, CancelRequest(reason="the shoot moved to Bandung (officer Ani agreed)",
                                         actor="applicant:ACC-SARI"),
            result_type=PermitStatusView,
        )
        assert view.status == ApplicationStatus.withdrawn and view.organisation_id == "ORG-CONTOH"
        cancelled = [e for e in view.timeline if e.event == "cancelled"]
        # who cancelled is a field; a reason naming an officer names nobody
        assert [(e.detail, e.actor) for e in cancelled] == [
            ("the shoot moved to Bandung (officer Ani agreed)", "applicant:ACC-SARI")]

        final = await asyncio.wait_for(run.handle.result(), timeout=40)
        assert final.status == ApplicationStatus.withdrawn
        assert {c.agency: c.status for c in final.clearances} == {
            "parks": ClearanceStatus.withdrawn, "district": ClearanceStatus.withdrawn}
        keys = {run.child_id("parks"), run.child_id("district")}
        assert run.world.deletes == dict.fromkeys(keys, 1)  # each withdrawal reached its agency exactly once
        assert all(run.world.withdraw_attempts[k] > 1 for k in keys)  # ... after being retried through the outage
        assert (await run.handle.describe()).status == WorkflowExecutionStatus.COMPLETED

        # applicant notifications carry the organisation and its webhook; officer ones do not
        withdrawn = [n for n in run.world.notifications if n.kind == "application_withdrawn"]
        assert [(n.audience, n.organisation_id, n.webhook_url) for n in withdrawn] == [
            ("applicant", "ORG-CONTOH", "https://hooks.contoh.id/jfc")]
        assert all(n.webhook_url is None for n in run.world.notifications if n.audience != "applicant")

        # a final application cannot be cancelled again (refused by the validator)
        with pytest.raises(Exception):  # noqa: B017 — the run has completed: the server refuses any update
            await run.handle.execute_update(UPDATE_CANCEL, CancelRequest(reason="again"))


async def test_cancel_of_a_final_application_is_refused_before_it_enters_history(dev_env, task_queue):
    def rejected_and_db_down(world):  # rejected at intake; the read model down keeps the run open
        world.plan = world.plan.model_copy(update={"lead_time_ok": False})
        world.record_failures = 10**9

    the_plan = route(PlanInput(application=application(first_shoot_in(30)), submitted_at=dt.datetime.now(dt.UTC)))
    async with running(dev_env, task_queue, the_plan, setup=rejected_and_db_down) as run:
        await run.until(lambda v: v.status == ApplicationStatus.rejected, "rejected", timeout=T)
        message = await refused(run, UPDATE_CANCEL, CancelRequest(reason="never mind"), contains="already rejected")
        assert run.app_id in message
        await refused(run, UPDATE_AMEND, Amendment(application=application(first_shoot_in(31))), contains="no longer be amended")
        await run.handle.terminate("test done")


# ---- amend -----------------------------------------------------------------------------


async def test_amending_one_locations_dates_asks_only_its_agency_again(dev_env, task_queue):
    app = app_with_webhook()
    async with running(dev_env, task_queue, route(PlanInput(application=app, submitted_at=dt.datetime.now(dt.UTC))),
                       app=app, setup=started) as run:
        await both_accepted(run)
        await run.decide("parks", Outcome.approved)
        await run.until(lambda v: run.clearance(v, "parks").status == ClearanceStatus.approved, "parks", timeout=T)

        amended = with_location(app, 1, days=moved_days(app, 1, 3))
        result = await run.handle.execute_update(UPDATE_AMEND, Amendment(application=amended), result_type=AmendmentResult)
        assert result == AmendmentResult(revision=2, requested_again=["district"], kept=["parks"])
        view = await run.until(lambda v: run.clearance(v, "district").accepted_at is not None and
                               run.clearance(v, "district").revision == 2, "district r2 accepted", timeout=T)
        assert view.revision == 2 and [c.agency for c in view.clearances] == ["parks", "district"]
        assert run.clearance(view, "parks").revision == 1 and run.clearance(view, "parks").status == ClearanceStatus.approved
        assert run.world.deletes == {run.child_id("district", 1): 1}  # the old request withdrawn, once
        assert set(run.world.requests) == {run.child_id("parks"), run.child_id("district", 1), run.child_id("district", 2)}
        assert view.locations[1].days[0].date == amended.locations[1].days[0].date
        assert "amended" in [e.event for e in view.timeline]

        await run.decide("district", Outcome.approved, revision=2)
        view = await run.until(lambda v: v.status == ApplicationStatus.awaiting_payment, "awaiting payment", timeout=T)
        assert view.fees.total_idr == 4 * DAY_FEE
        await run.handle.terminate("test done")


async def test_adding_a_drone_adds_aviation_and_invalid_amendments_are_refused_with_field_paths(dev_env, task_queue):
    app = app_with_webhook()
    async with running(dev_env, task_queue, route(PlanInput(application=app, submitted_at=dt.datetime.now(dt.UTC))),
                       app=app, setup=started) as run:
        await both_accepted(run)

        past = app.locations[0].days[1].model_copy(update={"date": dt.date.today() - dt.timedelta(days=2)})
        days = [app.locations[0].days[0].model_dump(), past.model_dump()]
        await refused(run, UPDATE_AMEND, Amendment(application=with_location(app, 0, days=days)),
                      contains="locations[0].days[1].date")
        other = app.model_copy(update={"applicant": app.applicant.model_copy(update={"company": "PT Lain"})})
        await refused(run, UPDATE_AMEND, Amendment(application=other), contains="applicant.company")
        await refused(run, UPDATE_AMEND, Amendment(application=app), contains="changes nothing")

        result = await run.handle.execute_update(
            UPDATE_AMEND, Amendment(application=with_location(app, 1, drone=True)), result_type=AmendmentResult)
        # the street gets a drone: aviation is added; district sees a changed location; parks keeps its request
        assert result == AmendmentResult(revision=2, added=["aviation"], requested_again=["district"], kept=["parks"])
        view = await run.until(lambda v: run.clearance(v, "aviation").accepted_at is not None, "aviation", timeout=T)
        assert run.clearance(view, "aviation").revision == 2
        assert run.world.requests[run.child_id("aviation", 2)].locations == ["Jalan Sabang"]

        # remove the drone again: aviation is withdrawn at its agency
        result = await run.handle.execute_update(UPDATE_AMEND, Amendment(application=app), result_type=AmendmentResult)
        assert result == AmendmentResult(revision=3, requested_again=["district"], kept=["parks"], withdrawn=["aviation"])
        await run.eventually(lambda: run.world.deletes.get(run.child_id("aviation", 2)) == 1, "aviation withdrawn", timeout=T)
        view = await run.status()
        assert [c.agency for c in view.clearances] == ["parks", "district"] and view.revision == 3
        await run.handle.terminate("test done")


async def test_amending_an_issued_permit_reissues_it_after_the_changed_clearances_and_the_fee_difference(
    dev_env, task_queue
):
    """The view keeps the issued revision (what the verification page shows) until the amendment is cleared, paid for
    and issued."""
    app = app_with_webhook()
    async with running(dev_env, task_queue, route(PlanInput(application=app, submitted_at=dt.datetime.now(dt.UTC))),
                       app=app, setup=started) as run:
        await both_accepted(run)
        await run.decide("parks", Outcome.approved)
        await run.decide("district", Outcome.approved)
        await run.until(lambda v: v.status == ApplicationStatus.awaiting_payment, "awaiting payment", timeout=T)
        assert (await run.status()).issued is None
        await run.handle.signal("payment_received", Payment(payment_id="pay-1", permit_id=run.app_id,
                                                            amount_idr=4 * DAY_FEE, paid_at=dt.datetime.now(dt.UTC)))
        issued = await run.until(lambda v: v.status == ApplicationStatus.issued, "issued", timeout=T)
        # the view keeps what the permit was issued for (the public verification page shows it)
        assert issued.issued is not None and issued.permit is not None
        assert issued.issued.revision == 1 and not issued.amendment_pending
        assert issued.issued.issued_at == issued.permit.issued_at
        assert issued.issued.locations == location_views(app.locations) == issued.locations
        assert issued.issued.clearances == run.world.issued[0].clearances
        assert issued.issued.fees is not None and issued.issued.fees.paid_at is not None

        extra_day = [*app.locations[1].days, ShootDay(date=app.locations[1].days[-1].date + dt.timedelta(days=1),
                                                      start=dt.time(6), end=dt.time(18))]
        amended = with_location(app, 1, days=[d.model_dump() for d in extra_day])
        result = await run.handle.execute_update(UPDATE_AMEND, Amendment(application=amended), result_type=AmendmentResult)
        assert result.requested_again == ["district"] and result.kept == ["parks"]
        view = await run.until(lambda v: v.status == ApplicationStatus.amended, "amended", timeout=T)
        assert view.permit == issued.permit  # still the issued permit while the change is cleared
        assert "fees_changed" in [e.event for e in view.timeline]
        assert view.amendment_pending and view.revision == 2
        assert view.issued == issued.issued  # the permit stands as issued
        assert view.locations == location_views(amended.locations) != view.issued.locations

        await run.until(lambda v: run.clearance(v, "district").accepted_at is not None and run.clearance(v, "district").revision == 2,
                        "district r2", timeout=T)
        await run.decide("district", Outcome.approved, revision=2)
        view = await run.until(lambda v: v.status == ApplicationStatus.awaiting_payment, "the difference due", timeout=T)
        assert "1250000 IDR due" in next(e.detail for e in reversed(view.timeline) if e.event == "awaiting_payment")
        assert view.amendment_pending and view.issued == issued.issued  # cleared, not yet paid for
        await run.handle.signal("payment_received", Payment(payment_id="pay-2", permit_id=run.app_id,
                                                            amount_idr=DAY_FEE, paid_at=dt.datetime.now(dt.UTC)))
        view = await run.until(lambda v: v.status == ApplicationStatus.issued, "issued again", timeout=T)
        assert len(run.world.issued) == 2 and view.permit.number == issued.permit.number
        assert len(run.world.issued[1].application.locations[1].days) == 3
        assert view.issued is not None and view.issued.revision == 2 and not view.amendment_pending
        assert view.issued.locations == location_views(amended.locations)
        assert view.issued.clearances == run.world.issued[1].clearances
        await run.handle.terminate("test done")


# ---- answer_information ------------------------------------------------------------------


async def test_answer_goes_to_the_open_request_and_an_unknown_id_is_refused(dev_env, task_queue):
    app = app_with_webhook()
    async with running(dev_env, task_queue, route(PlanInput(application=app, submitted_at=dt.datetime.now(dt.UTC))),
                       app=app, setup=started, organisation_id="ORG-CONTOH") as run:
        await both_accepted(run)
        asked = await run.decide("parks", Outcome.information_required, reason="Which lawn?")
        await run.until(lambda v: v.status == ApplicationStatus.awaiting_information, "awaiting information", timeout=T)
        await refused(run, UPDATE_ANSWER, InformationAnswer(request_id="nope-1", answer="x"), contains="'nope-1'")
        view = await run.handle.execute_update(
            UPDATE_ANSWER, InformationAnswer(request_id=asked.decision_id, answer="North lawn"), result_type=PermitStatusView)
        assert "information_answered" in [e.event for e in view.timeline]
        await run.until(lambda v: run.clearance(v, "parks").status == ClearanceStatus.submitted, "resumed", timeout=T)
        assert run.world.answers[0].answer == "North lawn"
        # the clearance workflow's applicant notification carries the organisation and the webhook too
        info = [n for n in run.world.notifications if n.kind == "information_required"]
        assert [(n.organisation_id, n.webhook_url) for n in info] == [("ORG-CONTOH", "https://hooks.contoh.id/jfc")]
        await run.handle.terminate("test done")


# ---- decide ------------------------------------------------------------------------------


async def test_officer_confirms_overrides_and_asks_the_applicant(dev_env, task_queue):
    app = app_with_webhook()
    async with running(dev_env, task_queue, route(PlanInput(application=app, submitted_at=dt.datetime.now(dt.UTC))),
                       app=app, setup=started) as run:
        await both_accepted(run)
        await refused(run, UPDATE_DECIDE, OfficerDecision(kind=OfficerDecisionKind.expedite, outcome=Outcome.approved,
                                                          reason="x"), contains="no expedite request")
        await refused(run, UPDATE_DECIDE, OfficerDecision(kind=OfficerDecisionKind.override, agency="parks",
                                                          outcome=Outcome.approved, reason="x"), contains="only a final outcome")
        await refused(run, UPDATE_DECIDE, OfficerDecision(kind=OfficerDecisionKind.clearance, agency="fire",
                                                          outcome=Outcome.approved, reason="x"), contains="'fire'")

        # the officer asks the applicant through an open clearance
        view = await run.handle.execute_update(UPDATE_DECIDE, OfficerDecision(
            kind=OfficerDecisionKind.clearance, agency="parks", outcome=Outcome.information_required,
            reason="Send the lawn plan", officer="dewi"), result_type=PermitStatusView)
        parks = run.clearance(view, "parks")
        assert parks.status == ClearanceStatus.information_required and parks.information_request_id
        view = await run.handle.execute_update(UPDATE_ANSWER, InformationAnswer(
            request_id=parks.information_request_id, answer="attached"), result_type=PermitStatusView)
        await run.until(lambda v: run.clearance(v, "parks").status == ClearanceStatus.submitted, "resumed", timeout=T)

        # an agency rejection waits for the officer, who overrides it with an approval
        await run.decide("district", Outcome.rejected, reason="street festival that week")
        view = await run.until(lambda v: v.status == ApplicationStatus.officer_review, "rejection to confirm", timeout=T)
        assert run.clearance(view, "district").needs_officer
        view = await run.handle.execute_update(UPDATE_DECIDE, OfficerDecision(
            kind=OfficerDecisionKind.clearance, agency="district", outcome=Outcome.approved_with_conditions,
            conditions=["not during the festival hours"], reason="festival ends at noon", officer="dewi"),
            result_type=PermitStatusView)
        district = run.clearance(view, "district")
        assert district.status == ClearanceStatus.approved_with_conditions and not district.needs_officer
        assert "officer override by dewi: festival ends at noon" in district.reason
        assert "officer_override" in [e.event for e in view.timeline]

        # an override of a final outcome: the officer rejects what parks approved; the application is rejected
        await run.decide("parks", Outcome.approved)
        await run.until(lambda v: v.status == ApplicationStatus.awaiting_payment, "awaiting payment", timeout=T)
        view = await run.handle.execute_update(UPDATE_DECIDE, OfficerDecision(
            kind=OfficerDecisionKind.override, agency="parks", outcome=Outcome.rejected,
            reason="the lawn was damaged by another production", officer="budi"), result_type=PermitStatusView)
        assert view.status == ApplicationStatus.rejected
        assert run.clearance(view, "parks").status == ClearanceStatus.rejected
        override = [e for e in view.timeline if e.event == "officer_override"][-1]
        assert override.detail.startswith("parks: approved -> rejected by officer budi")
        final = await asyncio.wait_for(run.handle.result(), timeout=T)
        assert final.status == ApplicationStatus.rejected


async def test_officer_confirms_a_rejection_with_the_update(dev_env, task_queue):
    app = app_with_webhook()
    async with running(dev_env, task_queue, route(PlanInput(application=app, submitted_at=dt.datetime.now(dt.UTC))),
                       app=app, setup=started) as run:
        await both_accepted(run)
        await run.decide("parks", Outcome.rejected, reason="reseeding")
        await run.until(lambda v: v.status == ApplicationStatus.officer_review, "rejection to confirm", timeout=T)
        await refused(run, UPDATE_DECIDE, OfficerDecision(kind=OfficerDecisionKind.clearance, agency="parks",
                                                          outcome=Outcome.information_required, reason="?"),
                      contains="rejection to confirm")
        view = await run.handle.execute_update(UPDATE_DECIDE, OfficerDecision(
            kind=OfficerDecisionKind.clearance, agency="parks", outcome=Outcome.rejected, reason="confirmed with the park"),
            result_type=PermitStatusView)
        assert view.status == ApplicationStatus.rejected
        assert "rejection_confirmed" in [e.event for e in view.timeline]
        final = await asyncio.wait_for(run.handle.result(), timeout=T)
        assert run.clearance(final, "district").status == ClearanceStatus.withdrawn
        assert run.world.deletes == {run.child_id("district"): 1}
        if os.environ.get("JFC_WRITE_HISTORIES") == "1":  # the replay test's history with updates
            history = await run.handle.fetch_history()
            path = Path(__file__).parent / "histories" / "permit_updates.json"
            path.write_text(json.dumps(json.loads(history.to_json()), indent=1) + "\n")


# ---- a clearance that continued as new ----------------------------------------------------


async def test_an_officer_decision_reaches_a_clearance_that_continued_as_new(dev_env, task_queue):
    """The `decide` update goes through the parent's child handle, which follows the clearance's new runs."""
    app = app_with_webhook()

    def parks_down(world) -> None:
        world.planner = route
        world.outage_until["parks"] = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)

    limit = ClearanceInputs(continue_as_new_after_events=25)
    async with running(dev_env, task_queue, route(PlanInput(application=app, submitted_at=dt.datetime.now(dt.UTC))),
                       app=app, setup=parks_down, interceptors=[limit]) as run:
        await run.until(lambda v: run.clearance(v, "parks").status == ClearanceStatus.agency_unreachable, "down",
                        timeout=T)
        parks = run.client.get_workflow_handle(run.child_id("parks"))
        first_run = (await parks.describe()).run_id
        deadline = asyncio.get_running_loop().time() + T
        while (await parks.describe()).run_id == first_run:  # the outage's attempts continued it as new
            assert asyncio.get_running_loop().time() < deadline, "the clearance never continued as new"
            await asyncio.sleep(0.2)

        view = await run.handle.execute_update(UPDATE_DECIDE, OfficerDecision(
            kind=OfficerDecisionKind.clearance, agency="parks", outcome=Outcome.approved,
            reason="confirmed with the park by phone", officer="officer:dewi"), result_type=PermitStatusView)
        decided = run.clearance(view, "parks")
        assert decided.status == ClearanceStatus.approved and decided.decided_by == "officer:dewi"
        assert len(decided.outages) == 1 and decided.failed_attempts >= 2
        assert run.world.requests.get(run.child_id("parks")) is None  # the agency never took the request
        await run.handle.terminate("test done")
