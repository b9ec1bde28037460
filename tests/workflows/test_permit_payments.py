"""Every payment a permit application hears of is recorded and ends matched or as a refund with its reason."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

from wf_harness import FEE_TOTAL, PARKS, Run, plan, running

from domain.ids import application_id_for_key, permit_number
from schemas.contracts import UPDATE_CANCEL
from schemas.decisions import CancelRequest, Outcome
from schemas.status import ApplicationStatus, PaymentOutcome, PermitStatusView, RefundReason

PARKS_ONLY = plan((PARKS, [], [0]))


def outcomes(view: PermitStatusView) -> list[tuple[str, PaymentOutcome, RefundReason | None]]:
    return [(p.payment_id, p.outcome, p.refund_reason) for p in view.payments]


async def awaiting_payment(run: Run) -> PermitStatusView:
    await run.accepted("parks")
    await run.decide("parks", Outcome.approved)
    return await run.until(lambda v: v.status == ApplicationStatus.awaiting_payment, "awaiting payment")


def refunds_told(run: Run) -> list[str]:
    return [n.detail for n in run.world.notifications if n.kind == "refund_due" and n.audience == "officer"]


async def test_a_wrong_amount_and_a_second_payment_are_refunds_and_the_right_one_pays(time_env, task_queue):
    app_id = application_id_for_key(str(uuid.uuid4()))
    async with running(time_env, task_queue, PARKS_ONLY, app_id=app_id) as run:
        await awaiting_payment(run)

        await run.pay(FEE_TOTAL - 1, "short")
        view = await run.until(lambda v: v.payments and v.payments[0].outcome == PaymentOutcome.refund, "refund")
        assert view.status == ApplicationStatus.awaiting_payment and view.fees.paid_at is None
        short = view.payments[0]
        assert (short.amount_idr, short.refund_reason) == (FEE_TOTAL - 1, RefundReason.wrong_amount)
        assert f"expected {FEE_TOTAL} IDR" in short.detail and f"{FEE_TOTAL - 1} IDR to be refunded" in short.detail

        # named by its permit number, as a bank may write it: it pays
        await run.pay(FEE_TOTAL, "right", permit_id=permit_number(app_id, 2026).lower())
        view = await run.until(lambda v: v.status == ApplicationStatus.issued, "issued")
        assert view.fees.payment_id == "right"

        await run.pay(FEE_TOTAL, "again")  # paid twice
        await run.pay(FEE_TOTAL, "again")  # the same payment reported twice counts once
        view = await run.until(lambda v: len(v.payments) == 3 and v.payments[2].outcome == PaymentOutcome.refund,
                               "second payment refunded")
        assert outcomes(view) == [("short", PaymentOutcome.refund, RefundReason.wrong_amount),
                                  ("right", PaymentOutcome.matched, None),
                                  ("again", PaymentOutcome.refund, RefundReason.already_paid)]
        assert all(p.decided_at is not None for p in view.payments)
        events = [e.event for e in view.timeline]
        assert events.count("payment_mismatch") == 1 and events.count("payment_extra") == 1
        await run.eventually(lambda: len(refunds_told(run)) == 2, "officers told of both refunds")
        assert "payment short" in refunds_told(run)[0] and "payment again" in refunds_told(run)[1]
        await run.eventually(lambda: outcomes(run.world.projected(run.app_id)) == outcomes(view), "projected")
        await run.handle.terminate("test done")


async def test_payments_before_the_fee_is_due_wait_then_one_pays_and_the_other_is_refunded(time_env, task_queue):
    async with running(time_env, task_queue, PARKS_ONLY) as run:
        await run.accepted("parks")
        await run.pay(FEE_TOTAL, "early-1")
        await run.pay(FEE_TOTAL, "early-2")
        view = await run.until(lambda v: len(v.payments) == 2, "both recorded")
        assert [p.outcome for p in view.payments] == [PaymentOutcome.pending] * 2
        assert view.status == ApplicationStatus.in_review

        await run.decide("parks", Outcome.approved)
        view = await run.until(lambda v: v.status == ApplicationStatus.issued, "issued")
        assert outcomes(view) == [("early-1", PaymentOutcome.matched, None),
                                  ("early-2", PaymentOutcome.refund, RefundReason.already_paid)]
        assert view.fees.payment_id == "early-1"
        await run.handle.terminate("test done")


async def test_a_payment_waiting_when_the_application_is_rejected_is_refunded(time_env, task_queue):
    async with running(time_env, task_queue, PARKS_ONLY) as run:
        await run.accepted("parks")
        await run.pay(FEE_TOTAL, "early")
        await run.until(lambda v: bool(v.payments), "recorded")
        await run.officer_decides("parks", Outcome.rejected, "no filming in the park this month")
        view = await run.until(lambda v: v.status == ApplicationStatus.rejected and bool(v.payments)
                               and v.payments[0].outcome == PaymentOutcome.refund, "rejected, refunded")
        assert outcomes(view) == [("early", PaymentOutcome.refund, RefundReason.application_closed)]
        assert "the application is rejected" in view.payments[0].detail
        final = await run.handle.result()
        assert outcomes(final) == outcomes(view)
        assert outcomes(run.world.projected(run.app_id)) == outcomes(view)


async def test_a_payment_while_the_application_is_closing_is_refunded_not_dropped(dev_env, task_queue):
    async with running(dev_env, task_queue, PARKS_ONLY) as run:
        await run.until(lambda v: bool(v.clearances) and v.clearances[0].accepted_at is not None, "accepted",
                        timeout=20)
        down_until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=4)
        run.world.outage_until["parks"] = down_until  # the withdrawal at parks waits: the application is closing
        await run.handle.execute_update(UPDATE_CANCEL, CancelRequest(reason="shoot moved", actor="applicant:A"),
                                        result_type=PermitStatusView)
        await run.handle.signal("payment_received", {"payment_id": "late", "permit_id": run.app_id,
                                                     "amount_idr": FEE_TOTAL,
                                                     "paid_at": dt.datetime.now(dt.UTC).isoformat()})
        view = await run.until(lambda v: bool(v.payments), "recorded", timeout=20)
        assert dt.datetime.now(dt.UTC) < down_until, "the application was no longer closing"
        assert outcomes(view) == [("late", PaymentOutcome.refund, RefundReason.application_closed)]
        assert "withdrawn" in view.payments[0].detail

        final = await asyncio.wait_for(run.handle.result(), timeout=40)
        assert final.status == ApplicationStatus.withdrawn
        assert outcomes(final) == outcomes(view)
        assert [e.event for e in final.timeline].count("payment_after_close") == 1
        assert outcomes(run.world.projected(run.app_id)) == outcomes(view)
        assert any("payment late" in d for d in refunds_told(run))
