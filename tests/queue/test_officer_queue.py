"""The officer queue on projected PermitStatusViews: every kind, ranked by urgency, closed applications left out."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from domain.calendar import business_days_between
from schemas.reports import QueueKind
from schemas.status import (
    ApplicationStatus,
    ClearanceStatus,
    ClearanceView,
    LocationView,
    PaymentOutcome,
    PaymentView,
    PermitStatusView,
    RefundReason,
    ShootDayView,
    SlaState,
)
from store.projections import project_application
from store.queue import officer_queue

JAKARTA = ZoneInfo("Asia/Jakarta")


def jkt(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=JAKARTA)


NOW = jkt(11, 20, 12)  # a Friday noon in Jakarta


def location(name: str, *days: dt.datetime) -> LocationView:
    return LocationView(name=name, kind="park", address="Menteng", city="Jakarta Pusat",
                        days=[ShootDayView(date=d.date(), start=d.timetz().replace(tzinfo=None),
                                           end=dt.time(18)) for d in days])


def clearance(agency: str, status: ClearanceStatus = ClearanceStatus.submitted, **fields) -> ClearanceView:
    fields.setdefault("requested_at", jkt(11, 2, 9))
    if status != ClearanceStatus.submitting:
        fields.setdefault("accepted_at", fields["requested_at"])
    return ClearanceView(agency=agency, status=status, **fields)


def view(app_id: str, *clearances: ClearanceView, status: ApplicationStatus = ApplicationStatus.in_review,
         organisation_id: str = "ORG-A", **fields) -> PermitStatusView:
    fields.setdefault("submitted_at", jkt(11, 1, 9))
    return PermitStatusView(id=app_id, status=status, organisation_id=organisation_id,
                            production_title=f"Film {app_id}", applicant_company="PT Contoh Film",
                            clearances=list(clearances), **fields)


async def project(pool: asyncpg.Pool, seq: int, permit: PermitStatusView) -> None:
    assert await project_application(pool, f"permit-{permit.id}", seq, permit, business_days_between)


def paid(payment_id: str, amount: int, outcome: PaymentOutcome, at: dt.datetime, **fields) -> PaymentView:
    return PaymentView(payment_id=payment_id, permit_id="PRM-X", amount_idr=amount, paid_at=at, received_at=at,
                       outcome=outcome, decided_at=None if outcome is PaymentOutcome.pending else at, **fields)


def refund(payment_id: str, amount: int, reason: RefundReason, at: dt.datetime) -> PaymentView:
    return paid(payment_id, amount, PaymentOutcome.refund, at, refund_reason=reason,
                detail=f"{reason.value}; {amount} IDR to be refunded")


def breached(agency: str, due: dt.datetime, **fields) -> ClearanceView:
    return clearance(agency, due_at=due, final_deadline_at=due + dt.timedelta(days=7), breached_at=due,
                     sla=SlaState.breached, **fields)


async def seed(pool: asyncpg.Pool) -> None:
    # expedite requests: ranked by the first shoot day (the earliest of every location's days)
    await project(pool, 1, view("PRM-EXP1", status=ApplicationStatus.officer_review, awaiting_expedite=True,
                                earliest_feasible_start=dt.date(2026, 12, 2),
                                locations=[location("Taman Suropati", jkt(12, 3, 6), jkt(11, 25, 7)),
                                           location("Kota Tua", jkt(11, 26, 8))]))
    await project(pool, 1, view("PRM-EXP2", status=ApplicationStatus.officer_review, awaiting_expedite=True,
                                locations=[location("Monas", jkt(11, 23, 6))]))
    # no shoot day known: ranked by when it was submitted
    await project(pool, 1, view("PRM-EXP3", status=ApplicationStatus.officer_review, awaiting_expedite=True,
                                submitted_at=jkt(11, 19, 10)))
    # an open breach; the other clearance was decided late (a past breach, not for the queue)
    await project(pool, 1, view("PRM-BR", breached("parks", jkt(11, 10, 16)),
                                breached("police", jkt(11, 9, 16), status=ClearanceStatus.approved,
                                         decided_at=jkt(11, 12, 10))))
    # silent past the final deadline, silence is not consent: the officer decides
    await project(pool, 1, view("PRM-FD", clearance(
        "police", due_at=jkt(11, 5, 16), final_deadline_at=jkt(11, 12, 16), breached_at=jkt(11, 5, 16),
        sla=SlaState.breached, needs_officer=True, reason="no decision by the final deadline; an officer decides")))
    # flagged for another reason, and breached: listed as a breach, with the reason
    await project(pool, 1, view("PRM-FLB", clearance(
        "fire", due_at=jkt(11, 8, 16), final_deadline_at=jkt(11, 25, 16), breached_at=jkt(11, 8, 16),
        sla=SlaState.breached, needs_officer=True, reason="the answer could not be delivered")))
    # a rejection to confirm, ranked by the clearance's due time
    await project(pool, 1, view("PRM-REJ", clearance(
        "heritage", ClearanceStatus.rejected, due_at=jkt(11, 24, 16), decided_at=jkt(11, 18, 10), sla=SlaState.met,
        needs_officer=True, reason="the site is under restoration")))
    # the agency refused the request itself: never accepted, no due time; ranked by the first shoot day
    await project(pool, 1, view("PRM-REF", clearance(
        "transport", ClearanceStatus.submitting, needs_officer=True,
        reason="the agency refused the request: 422 the traffic plan is missing"),
        locations=[location("Jl. Sudirman", jkt(12, 1, 8))]))
    # withdrawn outside the application: some other flag
    await project(pool, 1, view("PRM-OTH", clearance(
        "district", ClearanceStatus.withdrawn, due_at=jkt(11, 15, 16), decided_at=jkt(11, 14, 9),
        needs_officer=True)))
    # a payment of the wrong amount, refunded; the application has completed since: the refund is still owed
    await project(pool, 1, view("PRM-PAY", clearance("parks", ClearanceStatus.approved, decided_at=jkt(11, 4, 9)),
                                status=ApplicationStatus.completed,
                                payments=[refund("PAY-SHORT", 900_000, RefundReason.wrong_amount, jkt(11, 9, 10))]))
    # nothing to do: on track, decided in time
    await project(pool, 1, view("PRM-OK", clearance("parks", due_at=jkt(11, 30, 16), sla=SlaState.on_track),
                                clearance("district", ClearanceStatus.approved, decided_at=jkt(11, 4, 9))))


EXPECTED = [
    ("PRM-FLB", QueueKind.breach, "fire"),
    ("PRM-PAY", QueueKind.refund, None),
    ("PRM-BR", QueueKind.breach, "parks"),
    ("PRM-FD", QueueKind.final_deadline, "police"),
    ("PRM-OTH", QueueKind.needs_officer, "district"),
    ("PRM-EXP3", QueueKind.expedite, None),
    ("PRM-EXP2", QueueKind.expedite, None),
    ("PRM-REJ", QueueKind.rejection_to_confirm, "heritage"),
    ("PRM-EXP1", QueueKind.expedite, None),
    ("PRM-REF", QueueKind.agency_refused, "transport"),
]


def keys(items) -> list[tuple]:
    return [(item.application_id, item.kind, item.agency) for item in items]


async def test_every_kind_appears_once_most_urgent_first(pool: asyncpg.Pool) -> None:
    await seed(pool)

    items = await officer_queue(pool, NOW)

    assert keys(items) == EXPECTED
    assert {item.kind for item in items} == set(QueueKind)
    assert [item.due_at for item in items] == sorted(item.due_at for item in items)
    by_id = {item.application_id: item for item in items}

    flb = by_id["PRM-FLB"]
    assert (flb.due_at, flb.since, flb.revision) == (jkt(11, 8, 16), jkt(11, 8, 16), 1)
    assert flb.overdue_hours == 284.0  # 8 Nov 16:00 to 20 Nov 12:00
    assert "fire was due 2026-11-08T16:00+07:00" in flb.reason and "could not be delivered" in flb.reason
    fd = by_id["PRM-FD"]
    assert (fd.due_at, fd.since, fd.overdue_hours) == (jkt(11, 12, 16), jkt(11, 12, 16), 188.0)
    assert "final deadline" in fd.reason
    exp1 = by_id["PRM-EXP1"]
    assert (exp1.due_at, exp1.since, exp1.agency, exp1.revision) == (jkt(11, 25, 7), jkt(11, 1, 9), None, None)
    assert exp1.overdue_hours == -115.0  # still ahead: 4 days and 19 hours
    assert exp1.reason == ("expedite requested: the first shoot day is 2026-11-25T07:00+07:00, "
                           "the earliest feasible start 2026-12-02")
    assert exp1.application_status == ApplicationStatus.officer_review
    assert (exp1.production_title, exp1.applicant_company, exp1.organisation_id) == (
        "Film PRM-EXP1", "PT Contoh Film", "ORG-A")
    assert by_id["PRM-EXP3"].due_at == jkt(11, 19, 10)
    rej = by_id["PRM-REJ"]
    assert (rej.due_at, rej.since) == (jkt(11, 24, 16), jkt(11, 18, 10))
    assert "heritage rejected" in rej.reason and "under restoration" in rej.reason
    pay = by_id["PRM-PAY"]
    assert (pay.due_at, pay.since, pay.agency, pay.revision) == (jkt(11, 9, 10), jkt(11, 9, 10), None, None)
    assert (pay.payment_id, pay.amount_idr, pay.application_status) == ("PAY-SHORT", 900_000,
                                                                        ApplicationStatus.completed)
    assert pay.reason == "refund 900000 IDR of payment PAY-SHORT (wrong_amount): wrong_amount; 900000 IDR to be refunded"
    ref = by_id["PRM-REF"]
    assert (ref.due_at, ref.since) == (jkt(12, 1, 8), jkt(11, 2, 9))
    assert ref.reason == "the agency refused the request: 422 the traffic plan is missing"


async def test_the_limit_keeps_the_most_urgent(pool: asyncpg.Pool) -> None:
    await seed(pool)

    assert keys(await officer_queue(pool, NOW, limit=3)) == EXPECTED[:3]
    assert keys(await officer_queue(pool, NOW, limit=1)) == EXPECTED[:1]
    for limit in (0, 1001):
        with pytest.raises(ValueError, match="limit"):
            await officer_queue(pool, NOW, limit=limit)
    with pytest.raises(ValueError, match="timezone-aware"):
        await officer_queue(pool, dt.datetime(2026, 11, 20, 12))


async def test_before_the_final_deadline_a_silent_agency_is_a_breach(pool: asyncpg.Pool) -> None:
    await seed(pool)

    earlier = await officer_queue(pool, jkt(11, 11, 12))

    fd = next(item for item in earlier if item.application_id == "PRM-FD")
    assert (fd.kind, fd.due_at) == (QueueKind.breach, jkt(11, 5, 16))


@pytest.mark.parametrize("closed", [ApplicationStatus.rejected, ApplicationStatus.withdrawn,
                                    ApplicationStatus.lapsed, ApplicationStatus.completed])
async def test_closed_applications_are_left_out(pool: asyncpg.Pool, closed: ApplicationStatus) -> None:
    await project(pool, 1, view("PRM-LIVE", breached("parks", jkt(11, 10, 16)), awaiting_expedite=True))
    await project(pool, 1, view(
        "PRM-SHUT", breached("parks", jkt(11, 1, 16)),
        clearance("police", ClearanceStatus.rejected, decided_at=jkt(11, 3, 9), needs_officer=True),
        clearance("fire", final_deadline_at=jkt(11, 2, 16), needs_officer=True),
        status=closed, awaiting_expedite=True))

    items = await officer_queue(pool, NOW)

    # no shoot day: the expedite request ranks by its submission (1 November), before the breach (10 November)
    assert keys(items) == [("PRM-LIVE", QueueKind.expedite, None), ("PRM-LIVE", QueueKind.breach, "parks")]


async def test_an_item_leaves_the_queue_once_the_application_moves_on(pool: asyncpg.Pool) -> None:
    await seed(pool)
    # the officer decides the silent police clearance; the expedite of EXP2 is granted
    await project(pool, 2, view("PRM-FD", clearance(
        "police", ClearanceStatus.approved, due_at=jkt(11, 5, 16), final_deadline_at=jkt(11, 12, 16),
        breached_at=jkt(11, 5, 16), decided_at=jkt(11, 20, 9), sla=SlaState.breached,
        reason="approved (officer Ani)")))
    await project(pool, 2, view("PRM-EXP2", status=ApplicationStatus.in_review,
                                locations=[location("Monas", jkt(11, 23, 6))]))

    remaining = [key[0] for key in keys(await officer_queue(pool, NOW))]

    assert remaining == [key[0] for key in EXPECTED if key[0] not in ("PRM-FD", "PRM-EXP2")]


async def test_an_amendment_leaves_the_older_revision_out(pool: asyncpg.Pool) -> None:
    """The breached revision 1 stays in the table as history; only the clearance of revision 2 counts."""
    await project(pool, 1, view("PRM-AMD", breached("parks", jkt(11, 6, 16)),
                                clearance("police", ClearanceStatus.rejected, decided_at=jkt(11, 7, 9),
                                          needs_officer=True)))
    assert len(await officer_queue(pool, NOW)) == 2

    await project(pool, 2, view(
        "PRM-AMD", clearance("parks", revision=2, requested_at=jkt(11, 16, 9), due_at=jkt(11, 23, 16),
                             sla=SlaState.on_track),
        status=ApplicationStatus.amended, revision=2))  # police is no longer routed

    assert await pool.fetchval("SELECT count(*) FROM clearances WHERE application_id = 'PRM-AMD'") == 3
    assert await officer_queue(pool, NOW) == []


async def test_equal_deadlines_put_the_final_deadline_first(pool: asyncpg.Pool) -> None:
    same = jkt(11, 10, 16)
    await project(pool, 1, view("PRM-T1", breached("parks", same)))
    await project(pool, 1, view("PRM-T2", clearance("police", due_at=jkt(11, 3, 16), final_deadline_at=same,
                                                    breached_at=jkt(11, 3, 16), needs_officer=True)))

    assert keys(await officer_queue(pool, NOW)) == [("PRM-T2", QueueKind.final_deadline, "police"),
                                                    ("PRM-T1", QueueKind.breach, "parks")]


async def test_a_withdrawn_clearance_is_no_open_breach(pool: asyncpg.Pool) -> None:
    """Withdrawn without a decision: not an open breach, nor silent past its final deadline. Withdrawn outside
    the application (the workflow flags it), it is listed for the officer to decide, as flagged work."""
    await project(pool, 1, view(
        "PRM-WD", breached("parks", jkt(11, 6, 16), status=ClearanceStatus.withdrawn,
                           reason="withdrawn: the application was closed")))
    await project(pool, 1, view(
        "PRM-OUT", breached("police", jkt(11, 4, 16), status=ClearanceStatus.withdrawn, needs_officer=True)))

    items = await officer_queue(pool, NOW)  # police's final deadline (11 November) has passed

    assert keys(items) == [("PRM-OUT", QueueKind.needs_officer, "police")]
    assert items[0].due_at == jkt(11, 4, 16)
    assert items[0].reason == "police (withdrawn) is flagged for an officer"


async def test_every_refund_owed_is_listed_once_whatever_became_of_the_application(pool: asyncpg.Pool) -> None:
    from schemas.decisions import Payment
    from store.payments import record_received

    at = jkt(11, 18, 9)
    # a live application: one payment matched, one refunded (paid twice), one still waiting for its fee
    await project(pool, 1, view("PRM-R1", status=ApplicationStatus.issued, payments=[
        paid("R1-OK", 1_000, PaymentOutcome.matched, at),
        refund("R1-TWICE", 1_000, RefundReason.already_paid, at + dt.timedelta(hours=1)),
        paid("R1-WAIT", 1_000, PaymentOutcome.pending, at)]))
    # projected again (a later view, the same payments): still one refund
    await project(pool, 2, view("PRM-R1", status=ApplicationStatus.issued, payments=[
        paid("R1-OK", 1_000, PaymentOutcome.matched, at),
        refund("R1-TWICE", 1_000, RefundReason.already_paid, at + dt.timedelta(hours=1)),
        paid("R1-WAIT", 1_000, PaymentOutcome.pending, at)]))
    # a closed application the API recorded a payment for that it never heard of (it had closed): owed
    await project(pool, 1, view("PRM-R2", status=ApplicationStatus.withdrawn))
    await record_received(pool, Payment(payment_id="R2-LATE", permit_id="PRM-R2", amount_idr=2_000, paid_at=at),
                          "PRM-R2", at - dt.timedelta(hours=2))
    # a live application's payment the API recorded and the application has yet to decide: not for the queue
    await project(pool, 1, view("PRM-R3"))
    await record_received(pool, Payment(payment_id="R3-NEW", permit_id="PRM-R3", amount_idr=3_000, paid_at=at),
                          "PRM-R3", at)
    # a refund already made leaves the queue
    await project(pool, 1, view("PRM-R4", status=ApplicationStatus.completed,
                                payments=[refund("R4-DONE", 4_000, RefundReason.wrong_amount, at)]))
    await pool.execute("UPDATE refunds SET refunded_at = $1, refunded_by = 'officer:ani' WHERE payment_id = 'R4-DONE'",
                       NOW)

    items = await officer_queue(pool, NOW)

    assert [(i.kind, i.payment_id, i.amount_idr) for i in items] == [
        (QueueKind.refund, "R2-LATE", 2_000), (QueueKind.refund, "R1-TWICE", 1_000)]
    assert "R2-LATE (application_closed)" in items[0].reason and items[0].due_at == at - dt.timedelta(hours=2)
    assert await pool.fetchval("SELECT count(*) FROM refunds WHERE payment_id = 'R1-TWICE'") == 1
    rows = await pool.fetch("SELECT payment_id, outcome FROM payments WHERE application_id = 'PRM-R1' ORDER BY 1")
    assert [tuple(r) for r in rows] == [("R1-OK", "matched"), ("R1-TWICE", "refund"), ("R1-WAIT", "pending")]
    assert len(await officer_queue(pool, NOW, limit=1)) == 1
