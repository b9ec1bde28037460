"""The incentive workflows on the time-skipping server, against an in-memory fund, treasury and audit firm.

The figures are worked out by hand: a location rebate of 25% on Rp 8,000,000,000 planned (of which
Rp 1,000,000,000 post-production, within its half) reserves Rp 2,000,000,000; the first tranche is 30%.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
from pathlib import Path

import pytest
from incentive_harness import (
    RULES,
    FakeParties,
    IncentiveRun,
    permit_facts,
    rebate_application,
    running,
    start,
)
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from schemas.contracts import (
    INVALID_REQUEST,
    QUERY_CALL,
    STATE_CONFLICT,
    UPDATE_CLAIM,
    UPDATE_CLAWBACK,
    UPDATE_COMMITTEE,
    UPDATE_SCORE,
    UPDATE_WITHDRAW,
    feature_call_workflow_id,
)
from schemas.incentive_contracts import (
    CallView,
    CallWorkflowInput,
    ClaimSubmission,
    ClawbackOrder,
    CommitteeDecision,
    PanelScore,
    PermitEventKind,
    Withdrawal,
)
from schemas.incentives import (
    Claim,
    ClaimLine,
    IncentiveApplication,
    IncentiveStatus,
    IncentiveStatusView,
    TrancheStatus,
)
from workflows.feature_call import FeatureCallWorkflow

HISTORIES = Path(__file__).parent / "histories"
RESERVED = 2_000_000_000
FIRST_TRANCHE = 600_000_000


async def save_history(handle, name: str) -> None:
    history = await handle.fetch_history()
    (HISTORIES / name).write_text(json.dumps(json.loads(history.to_json()), indent=1) + "\n")


def first_shoot(days_ahead: int = 60) -> dt.date:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=days_ahead)).date()


def claim_for(first: dt.date, *, total: int | None = None, outside: bool = False) -> Claim:
    lines = [
        ClaimLine(category="crew", supplier="Kru Jakarta", amount_idr=5_000_000_000, date=first, in_jakarta=True),
        ClaimLine(category="location", supplier="Taman Suropati", amount_idr=2_000_000_000, date=first,
                  in_jakarta=not outside),
        ClaimLine(category="post_production", supplier="Pasca Jakarta", amount_idr=1_000_000_000,
                  date=first + dt.timedelta(days=20), in_jakarta=True),
    ]
    return Claim(lines=lines, total_idr=sum(line.amount_idr for line in lines) if total is None else total)


async def update(run: IncentiveRun, name: str, arg) -> IncentiveStatusView:
    return await run.handle.execute_update(name, arg, result_type=IncentiveStatusView)


async def refused(run: IncentiveRun, name: str, arg) -> tuple[str, str, list]:
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await run.handle.execute_update(name, arg)
    cause = failure.value.cause
    return cause.type, cause.message, list(cause.details[0]) if cause.details else []


async def to_committee(run: IncentiveRun, first: dt.date, qualifying: int = 7_200_000_000) -> IncentiveStatusView:
    """From submission to the committee: reserved, photography, the first tranche, the claim, the audit."""
    await run.until(lambda v: v.status == IncentiveStatus.awaiting_photography, "awaiting photography")
    await run.permit_says(PermitEventKind.photography_started)
    await run.until(lambda v: v.tranches and v.tranches[0].status == TrancheStatus.paid, "first tranche")
    await run.permit_says(PermitEventKind.photography_ended, "completed")
    await run.until(lambda v: v.status == IncentiveStatus.claim_due, "claim due")
    await update(run, UPDATE_CLAIM, ClaimSubmission(claim=claim_for(first), actor="applicant:ACC-SARI"))
    await run.until(lambda v: v.status == IncentiveStatus.under_audit, "under audit")
    await run.audited(qualifying, 1_000_000_000)
    return await run.until(lambda v: v.status == IncentiveStatus.committee, "committee")


# ---- the location rebate, start to finish ------------------------------------------------------


async def test_a_rebate_goes_from_application_to_both_tranches_and_completes(time_env, task_queue):
    first = first_shoot()
    async with running(time_env, task_queue, rebate_application(), permit_facts(first)) as run:
        view = await run.until(lambda v: v.status == IncentiveStatus.awaiting_photography, "reserved")
        assert all(check.ok for check in view.eligibility) and len(view.eligibility) >= 4
        assert (view.rate, view.estimated_idr, view.reserved_idr) == (0.25, RESERVED, RESERVED)
        assert view.production_title == "Senja di Kota"
        assert [c.kind.value for c in view.certificates] == ["interim"]
        assert run.parties.certificates[0].amount_idr == RESERVED
        assert [(t.n, t.amount_idr, t.status) for t in view.tranches] == [
            (1, FIRST_TRANCHE, TrancheStatus.scheduled), (2, 0, TrancheStatus.scheduled)]
        assert run.parties.ledger == [("reserve", run.incentive_id, RESERVED, f"{run.incentive_id}:reserve")]
        links = await run.env.client.get_workflow_handle(run.permit_id).query("links", result_type=list[str])
        assert links == [run.incentive_id]  # the permit will tell it of photography

        view = await to_committee(run, first)
        assert view.paid_idr == FIRST_TRANCHE and view.audit.rebate_idr == 1_800_000_000  # 25% of 7.2 bn
        assert run.parties.audits[f"{run.incentive_id}:audit:1"].request.total_idr == 8_000_000_000
        await update(run, UPDATE_COMMITTEE, CommitteeDecision(outcome="approve", reason="in order", officer="officer:ani"))
        kind, message, _ = await refused(run, UPDATE_COMMITTEE, CommitteeDecision(outcome="approve", reason="again",
                                                                                  officer="officer:ani"))
        assert kind == STATE_CONFLICT and "already voted" in message  # two *different* officers
        await update(run, UPDATE_COMMITTEE, CommitteeDecision(outcome="approve", reason="agreed", officer="officer:budi"))

        view = await run.until(lambda v: v.status == IncentiveStatus.clawback_window, "clawback window")
        # the final tranche is the audited rebate less what was paid; the rest of the reservation is released
        assert [(t.n, t.amount_idr, t.status) for t in view.tranches] == [
            (1, FIRST_TRANCHE, TrancheStatus.paid), (2, 1_200_000_000, TrancheStatus.paid)]
        assert (view.paid_idr, view.reserved_idr) == (1_800_000_000, 0)
        assert [k for k, *_ in run.parties.ledger] == ["reserve", "pay", "pay", "release"]
        assert run.parties.ledger[-1][2] == 200_000_000
        assert sorted(run.parties.payments) == [f"{run.incentive_id}:tranche:1", f"{run.incentive_id}:tranche:2"]
        assert [c.kind.value for c in view.certificates] == ["interim", "final"]
        assert run.parties.certificates[-1].amount_idr == 1_800_000_000

        final = await run.handle.result()  # skips the 12-month window
        assert final.status == IncentiveStatus.completed
        if os.environ.get("JFC_WRITE_HISTORIES") == "1":  # regenerate the replay test's history
            await save_history(run.handle, "incentive.json")
        events = [e.event for e in final.timeline]
        for event in ("submitted", "estimated", "reserved", "certificate_issued", "photography_started",
                      "tranche_paid", "claim_submitted", "audited", "committee_approve", "settled", "completed"):
            assert event in events, event
        votes = [e.actor for e in final.timeline if e.event == "committee_approve"]
        assert votes == ["officer:ani", "officer:budi"]
        assert max(run.parties.projections) and run.parties.projections[max(run.parties.projections)] == final


async def test_an_ineligible_application_names_every_failed_rule(time_env, task_queue):
    app = rebate_application(planned_jakarta_spend_idr=1_000_000_000, planned_post_production_idr=0,
                             crew_total=40, crew_indonesian=10)
    async with running(time_env, task_queue, app, permit_facts(first_shoot(), days=3)) as run:
        final = await run.handle.result()
        assert final.status == IncentiveStatus.ineligible
        assert sorted(c.rule for c in final.eligibility if not c.ok) == ["indonesian_crew", "planned_spend", "shoot_days"]
        assert all(c.detail for c in final.eligibility)
        assert run.parties.ledger == [] and final.reserved_idr == 0
        assert run.parties.kinds("applicant") == ["incentive_ineligible"]  # told once


async def test_another_organisations_permit_is_named_as_a_failed_rule_and_shows_nothing_of_it(time_env, task_queue):
    other = permit_facts(first_shoot(), organisation_id="ORG-LAIN")
    async with running(time_env, task_queue, rebate_application(), other) as run:
        final = await run.handle.result()
        assert final.status == IncentiveStatus.ineligible
        failed = [c for c in final.eligibility if not c.ok]
        assert failed[0].rule == "linked_permit"  # and the rules that need its facts fail as for no permit
        assert {c.rule for c in failed} == {"linked_permit", "shoot_days"}
        assert final.production_title == "" and not any("Senja" in c.detail for c in final.eligibility)


# ---- claims and the committee ----------------------------------------------------------------------


async def test_a_claim_with_problems_is_refused_at_each_line_and_a_late_claim_lapses(time_env, task_queue):
    first = first_shoot()
    async with running(time_env, task_queue, rebate_application(), permit_facts(first)) as run:
        await run.until(lambda v: v.status == IncentiveStatus.awaiting_photography, "reserved")
        kind, message, _ = await refused(run, UPDATE_CLAIM, ClaimSubmission(claim=claim_for(first)))
        assert kind == STATE_CONFLICT  # no claim is due before photography
        await run.permit_says(PermitEventKind.photography_started)
        await run.permit_says(PermitEventKind.photography_ended, "completed")
        view = await run.until(lambda v: v.status == IncentiveStatus.claim_due, "claim due")
        kind, _, problems = await refused(run, UPDATE_CLAIM, ClaimSubmission(claim=claim_for(first, outside=True)))
        assert kind == INVALID_REQUEST and [p["path"] for p in problems] == ["lines[1].in_jakarta"]
        kind, _, problems = await refused(run, UPDATE_CLAIM, ClaimSubmission(claim=claim_for(first, total=1)))
        assert [p["path"] for p in problems] == ["total_idr"]

        final = await run.handle.result()  # skips past the claim deadline
        assert final.status == IncentiveStatus.lapsed and view.next_deadline is not None
        assert final.timeline[-1].at >= view.next_deadline
        # the rest of the reservation went back to the fund
        assert run.parties.ledger[-1] == ("release", run.incentive_id, RESERVED - FIRST_TRANCHE,
                                          f"{run.incentive_id}:release:closing")


async def test_a_committee_split_returns_the_claim_once_and_a_second_rejection_ends_it(time_env, task_queue):
    first = first_shoot()
    async with running(time_env, task_queue, rebate_application(), permit_facts(first)) as run:
        await to_committee(run, first)
        await update(run, UPDATE_COMMITTEE, CommitteeDecision(outcome="approve", reason="fine", officer="officer:ani"))
        await update(run, UPDATE_COMMITTEE, CommitteeDecision(outcome="reject", reason="catering receipts missing",
                                                              officer="officer:budi"))
        view = await run.until(lambda v: v.status == IncentiveStatus.returned, "returned")
        assert view.committee.returned_reason == "catering receipts missing"
        assert "claim_returned" in run.parties.kinds("applicant")

        await update(run, UPDATE_CLAIM, ClaimSubmission(claim=claim_for(first)))
        await run.until(lambda v: v.status == IncentiveStatus.under_audit, "audited again")
        await run.audited(7_200_000_000, 1_000_000_000, round_=2)
        view = await run.until(lambda v: v.status == IncentiveStatus.committee, "committee again")
        assert view.committee.round == 2 and view.committee.votes == []
        await update(run, UPDATE_COMMITTEE, CommitteeDecision(outcome="reject", reason="still missing",
                                                              officer="officer:ani"))
        final = await run.handle.result()
        assert final.status == IncentiveStatus.rejected and "still missing" in final.timeline[-1].detail
        assert final.paid_idr == FIRST_TRANCHE  # what was paid stays paid; the rest is released
        assert run.parties.ledger[-1][:3] == ("release", run.incentive_id, RESERVED - FIRST_TRANCHE)


async def test_an_overpaid_first_tranche_is_clawed_back_and_an_officer_claws_back_in_the_window(time_env, task_queue):
    first = first_shoot()
    async with running(time_env, task_queue, rebate_application(), permit_facts(first)) as run:
        # audited: only Rp 2,000,000,000 qualifies: the rebate is Rp 500,000,000, less than the first tranche
        await to_committee(run, first, qualifying=2_000_000_000)
        for officer in ("officer:ani", "officer:budi"):
            await update(run, UPDATE_COMMITTEE, CommitteeDecision(outcome="approve", reason="ok", officer=officer))
        view = await run.until(lambda v: v.status == IncentiveStatus.clawback_window, "window")
        assert view.tranches[1].status == TrancheStatus.cancelled and view.tranches[1].amount_idr == 0
        assert view.clawed_back_idr == 100_000_000  # Rp 600,000,000 paid, Rp 500,000,000 due
        assert ("clawback", run.incentive_id, 100_000_000, f"{run.incentive_id}:clawback:settlement") in \
            run.parties.ledger

        kind, _, problems = await refused(run, UPDATE_CLAWBACK, ClawbackOrder(amount_idr=600_000_000, reason="x"))
        assert kind == INVALID_REQUEST and [p["path"] for p in problems] == ["amount_idr"]
        view = await update(run, UPDATE_CLAWBACK, ClawbackOrder(amount_idr=50_000_000, reason="a location fee was "
                                                                "refunded", officer="officer:ani"))
        assert view.clawed_back_idr == 150_000_000
        clawed = [e for e in view.timeline if e.event == "clawed_back"]
        assert clawed[-1].actor == "officer:ani" and "refunded" in clawed[-1].detail
        kind, _, _ = await refused(run, UPDATE_WITHDRAW, Withdrawal(reason="too late"))
        assert kind == STATE_CONFLICT  # money was paid: no withdrawal now
        assert (await run.handle.result()).status == IncentiveStatus.completed


# ---- the treasury ---------------------------------------------------------------------------------


async def test_a_treasury_outage_pays_the_tranche_exactly_once_after_recovery(time_env, task_queue):
    parties = FakeParties(lose_first_payment_answer=True)
    async with running(time_env, task_queue, rebate_application(), permit_facts(first_shoot()), parties=parties) as run:
        await run.until(lambda v: v.status == IncentiveStatus.awaiting_photography, "reserved")
        start = await run.env.get_current_time()
        parties.treasury_down_until = start + dt.timedelta(hours=3)
        await run.permit_says(PermitEventKind.photography_started)
        await run.until(lambda v: v.status == IncentiveStatus.paying, "paying")
        await run.skip_to(start + dt.timedelta(hours=4))
        view = await run.until(lambda v: v.tranches[0].status == TrancheStatus.paid, "paid")
        key = f"{run.incentive_id}:tranche:1"
        assert parties.payment_attempts[key] > 3  # retried through the outage and the lost answer
        assert list(parties.payments) == [key] and view.paid_idr == FIRST_TRANCHE  # one payment
        assert view.tranches[0].paid_at >= start + dt.timedelta(hours=3)
        assert [k for k, *_ in parties.ledger].count("pay") == 1


# ---- the fund: waiting list, expiry, a cancelled permit ------------------------------------------------


async def test_a_waiting_application_expires_when_no_room_comes(time_env, task_queue):
    parties = FakeParties()
    parties.capacity[(2027, "location_rebate")] = RESERVED // 2  # too small for it: it waits
    first = first_shoot()
    async with running(time_env, task_queue, rebate_application(), permit_facts(first), parties=parties) as run:
        view = await run.until(lambda v: v.status == IncentiveStatus.waitlisted, "waitlisted")
        assert view.reserved_idr == 0 and parties.waitlist == [run.incentive_id]
        final = await run.handle.result()
        assert final.status == IncentiveStatus.expired, [(e.at, e.event) for e in final.timeline]
        assert final.timeline[-1].at.date() >= first + dt.timedelta(days=RULES.get("location_rebate")
                                                                     .reservation_expiry_days)
        assert parties.waitlist == []  # taken off the list


async def test_a_reservation_not_followed_by_photography_expires(time_env, task_queue):
    async with running(time_env, task_queue, rebate_application(), permit_facts(first_shoot())) as run:
        final = await run.handle.result()  # reserved, but photography never begins
        assert final.status == IncentiveStatus.expired, [(c.rule, c.detail) for c in final.eligibility if not c.ok]
        assert final.status == IncentiveStatus.expired and "photography did not begin" in final.timeline[-1].detail
        assert run.parties.ledger[-1][:3] == ("release", run.incentive_id, RESERVED)


async def test_a_cancelled_permit_releases_the_reservation_and_the_oldest_waiting_is_promoted(time_env, task_queue):
    parties = FakeParties()
    parties.capacity[(2027, "location_rebate")] = RESERVED  # room for one
    first = first_shoot()
    async with running(time_env, task_queue, rebate_application(), permit_facts(first), parties=parties) as held:
        await held.until(lambda v: v.status == IncentiveStatus.awaiting_photography, "first reserved")
        waiting = await start(time_env, task_queue, rebate_application(), permit_facts(first), parties)
        await waiting.until(lambda v: v.status == IncentiveStatus.waitlisted, "second waits")
        await held.permit_says(PermitEventKind.permit_closed, "withdrawn")
        final = await held.until(lambda v: v.status == IncentiveStatus.withdrawn, "withdrawn")  # polled: no skip
        assert final.status == IncentiveStatus.withdrawn and "withdrawn" in final.timeline[-1].detail
        view = await waiting.until(lambda v: v.status == IncentiveStatus.awaiting_photography, "promoted")
        assert view.reserved_idr == RESERVED and "promoted" in [e.event for e in view.timeline]
        assert parties.holdings[held.incentive_id].reserved == 0
        await waiting.handle.terminate("test done")


async def test_a_withdrawal_releases_what_is_reserved(dev_env, task_queue):
    async with running(dev_env, task_queue, rebate_application(), permit_facts(first_shoot())) as run:
        await run.until(lambda v: v.status == IncentiveStatus.awaiting_photography, "reserved")
        view = await update(run, UPDATE_WITHDRAW, Withdrawal(reason="the production moved to Bali",
                                                             actor="applicant:ACC-SARI"))
        assert view.status == IncentiveStatus.withdrawn and view.reserved_idr == 0
        assert run.parties.ledger[-1][:3] == ("release", run.incentive_id, RESERVED)
        assert [e.actor for e in view.timeline if e.event == "withdrawal_requested"] == ["applicant:ACC-SARI"]
        try:  # refused by the workflow while it closes, or by Temporal once it has completed (the API: 409 both)
            kind, _, _ = await refused(run, UPDATE_WITHDRAW, Withdrawal(reason="again"))
            assert kind == STATE_CONFLICT
        except RPCError as err:
            assert err.status == RPCStatusCode.NOT_FOUND and "completed" in err.message

# ---- the shooting-days grant ------------------------------------------------------------------------


async def test_a_shooting_days_grant_is_paid_once_on_a_short_report(time_env, task_queue):
    app = rebate_application(programme="shooting_days_grant")
    async with running(time_env, task_queue, app, permit_facts(first_shoot(), days=8)) as run:
        view = await run.until(lambda v: v.status == IncentiveStatus.awaiting_photography, "reserved")
        assert view.estimated_idr == view.reserved_idr == 200_000_000  # 7+ days
        assert [(t.n, t.amount_idr) for t in view.tranches] == [(1, 200_000_000)]
        assert view.next_deadline is not None  # the reservation's expiry
        await run.permit_says(PermitEventKind.photography_started)
        await run.until(lambda v: v.next_deadline is None, "photography began")

        async def projected() -> IncentiveStatusView:  # the read model follows, though nothing is paid yet
            return run.parties.projections[max(run.parties.projections)]
        for _ in range(50):
            if (await projected()).next_deadline is None:
                break
            await asyncio.sleep(0.1)
        assert (await projected()).next_deadline is None
        await run.permit_says(PermitEventKind.photography_ended, "completed")
        await run.until(lambda v: v.status == IncentiveStatus.claim_due, "report due")
        assert run.parties.payments == {}  # nothing is paid before the report
        kind, _, problems = await refused(run, UPDATE_CLAIM, ClaimSubmission(claim=Claim(report="   ")))
        assert kind == INVALID_REQUEST and [p["path"] for p in problems] == ["report"]
        await update(run, UPDATE_CLAIM, ClaimSubmission(claim=Claim(report="Eight days at Taman Suropati, as planned.")))
        view = await run.until(lambda v: v.status == IncentiveStatus.clawback_window, "paid")
        assert view.paid_idr == 200_000_000 and list(run.parties.payments) == [f"{run.incentive_id}:tranche:1"]
        assert (await run.handle.result()).status == IncentiveStatus.completed


# ---- the first-feature fund's call ----------------------------------------------------------------------


def feature_application(grant: int) -> IncentiveApplication:
    return rebate_application(programme="first_feature_fund", director_first_feature=True, project={
        "director_name": "Ayu", "director_nationality": "ID", "requested_grant_idr": grant, "call_id": "FFF-2027-1"})


async def test_the_call_ranks_at_its_deadline_and_grants_in_rank_order_while_the_fund_lasts(time_env, task_queue):
    programme = RULES.get("first_feature_fund")
    call = programme.first_feature.calls[0]
    parties = FakeParties()
    parties.capacity[(2027, "first_feature_fund")] = 3_000_000_000
    permit = permit_facts(first_shoot(200))
    async with running(time_env, task_queue, feature_application(2_000_000_000), permit, parties=parties) as a:
        call_handle = await time_env.client.start_workflow(
            FeatureCallWorkflow.run, CallWorkflowInput(call=call, programme=programme),
            id=feature_call_workflow_id(call.id), task_queue=task_queue)
        await a.until(lambda v: "entered_call" in [e.event for e in v.timeline], "a entered")
        b = await start(time_env, task_queue, feature_application(1_000_000_000), permit, parties)
        c = await start(time_env, task_queue, feature_application(2_000_000_000), permit, parties)
        for run in (b, c):
            await run.until(lambda v: "entered_call" in [e.event for e in v.timeline], "entered")
        assert (await a.status()).status == IncentiveStatus.submitted and parties.ledger == []

        await a.skip_to(call.deadline + dt.timedelta(minutes=1))
        scores = {a.incentive_id: (90, 80), b.incentive_id: (70, 60), c.incentive_id: (95, 85)}
        for officer in (0, 1):
            for incentive_id, pair in scores.items():
                await call_handle.execute_update(UPDATE_SCORE, PanelScore(
                    incentive_id=incentive_id, score=pair[officer], reason="panel", officer=f"officer:{officer}"),
                    result_type=CallView)
        view = await c.until(lambda v: v.status == IncentiveStatus.awaiting_photography, "c awarded")
        assert view.reserved_idr == 2_000_000_000 and view.score == 90
        # A ranks second but needs 2,000,000,000 of the 1,000,000,000 left: the awards end there, B is told too
        # polled, not awaited: awaiting a result would let the test server skip past C's reservation expiry
        for run, rank in ((a, 2), (b, 3)):
            final = await run.until(lambda v: v.status == IncentiveStatus.rejected, "told of its rank")
            assert final.status == IncentiveStatus.rejected
            assert f"ranked {rank} of 3" in final.timeline[-1].detail and "exhausted at rank 2" in final.timeline[-1].detail
        called = await call_handle.query(QUERY_CALL, result_type=CallView)
        assert [(e.rank, e.result.awarded) for e in sorted(called.entries, key=lambda e: e.rank)] == [
            (1, True), (2, False), (3, False)]
        assert parties.holdings[a.incentive_id].reserved == 0 and a.incentive_id not in parties.waitlist

        # the grant is paid 40/40/20: at photography, then at each reported milestone
        await c.permit_says(PermitEventKind.photography_started)
        await c.until(lambda v: v.paid_idr == 800_000_000 and v.status == IncentiveStatus.claim_due, "first tranche")
        kind, _, problems = await refused(c, UPDATE_CLAIM, ClaimSubmission(claim=Claim(milestone="delivery",
                                                                                        report="done")))
        assert kind == INVALID_REQUEST and "milestone" in [p["path"] for p in problems]
        await update(c, UPDATE_CLAIM, ClaimSubmission(claim=Claim(milestone="rough_cut", report="Rough cut seen.")))
        await c.until(lambda v: v.paid_idr == 1_600_000_000, "second tranche")
        await update(c, UPDATE_CLAIM, ClaimSubmission(claim=Claim(milestone="delivery", report="Delivered.")))
        view = await c.until(lambda v: v.status == IncentiveStatus.clawback_window, "all paid")
        assert [t.amount_idr for t in view.tranches] == [800_000_000, 800_000_000, 400_000_000]
        assert (await call_handle.result()).status == "awarded"
        if os.environ.get("JFC_WRITE_HISTORIES") == "1":
            await save_history(call_handle, "feature_call.json")
        assert (await c.handle.result()).status == IncentiveStatus.completed  # after its clawback window
