"""The incentive's money: reserved in the fund, paid through the treasury, released, clawed back; exactly once each.

Every step's idempotency key is `{incentive id}:{step}`; a promotion a release caused is told to the
incentive it reserved money for.
"""

from __future__ import annotations

import datetime as dt

from temporalio import workflow
from temporalio.exceptions import ActivityError, is_cancelled_exception

from schemas.contracts import SIGNAL_FUND_PROMOTED
from schemas.incentive_api import TreasuryPayment
from schemas.incentive_contracts import (
    FundMoveInput,
    FundPromotion,
    FundReserveInput,
    FundReserveResult,
    TreasuryPayInput,
)
from schemas.incentives import IncentiveStatus, Tranche, TrancheStatus
from workflows.incentive import calls
from workflows.incentive.record import Incentive
from workflows.notifier import APPLICANT, OFFICER, Notifier

REFUSED_PAYMENT_RETRY = dt.timedelta(days=1)  # a treasury refusal waits for someone to fix it, then tries again


class Money:
    """The money steps of one incentive, recorded on its timeline."""

    def __init__(self, incentive: Incentive, notifier: Notifier) -> None:
        self.incentive = incentive
        self.notifier = notifier

    @property
    def _id(self) -> str:
        return self.incentive.s.incentive_id

    async def reserve(self, amount_idr: int) -> FundReserveResult:
        """Reserve `amount_idr` from the fiscal year's fund (first come, first served) or join its waiting list.

        The compensation is registered first: from here on, closing releases whatever the incentive holds.
        """
        s = self.incentive.s
        s.holds_money = True
        app = s.input.application
        return await calls.reserve(FundReserveInput(
            fiscal_year=app.fiscal_year, programme=app.programme.value, incentive_id=self._id, amount_idr=amount_idr,
            key=f"{self._id}:reserve", reason=f"estimated {app.programme.value}: {amount_idr} IDR",
            default_capacity_idr=s.input.programme.default_capacity_idr,
        ))

    async def pay(self, tranche: Tranche) -> None:
        """Pay one tranche through the treasury (never twice: its payment key), then record it in the ledger."""
        s = self.incentive.s
        tranche.status = TrancheStatus.paying
        self.incentive.set_status(IncentiveStatus.paying, f"tranche {tranche.n}: {tranche.amount_idr} IDR")
        payment = TreasuryPayment(
            payment_key=f"{self._id}:tranche:{tranche.n}", incentive_id=self._id, tranche=tranche.n,
            amount_idr=tranche.amount_idr,
            beneficiary=s.input.permit.applicant_company if s.input.permit else "the production",
        )
        while True:
            try:
                receipt = await calls.pay(TreasuryPayInput(party=s.input.treasury, payment=payment))
                break
            except ActivityError as err:
                if is_cancelled_exception(err):
                    raise
                self.incentive.event("payment_refused", f"tranche {tranche.n}: {err.cause or err}")
                self.notifier.send("payment_refused", OFFICER, f"{self._id} tranche {tranche.n}: {err.cause or err}")
                await workflow.sleep(REFUSED_PAYMENT_RETRY, summary="treasury refused")
        await calls.record_payment(FundMoveInput(
            incentive_id=self._id, amount_idr=tranche.amount_idr, key=f"{self._id}:pay:{tranche.n}",
            reason=f"tranche {tranche.n} paid, treasury reference {receipt.reference}",
        ))
        tranche.status, tranche.paid_at, tranche.reference = TrancheStatus.paid, receipt.paid_at, receipt.reference
        s.paid_idr += tranche.amount_idr
        s.reserved_idr -= tranche.amount_idr
        self.incentive.event("tranche_paid", f"tranche {tranche.n}: {tranche.amount_idr} IDR, treasury reference "
                                             f"{receipt.reference}")
        self.notifier.send("tranche_paid", APPLICANT, f"tranche {tranche.n}: {tranche.amount_idr} IDR")

    async def release(self, reason: str, step: str = "release") -> int:
        """Release what is still reserved (or take the incentive off the waiting list); promotions are told."""
        s = self.incentive.s
        try:
            moved = await calls.release(FundMoveInput(incentive_id=self._id, key=f"{self._id}:{step}", reason=reason))
        except ActivityError as err:
            if is_cancelled_exception(err):
                raise
            self.incentive.event("release_failed", f"{err.cause or err}")
            self.notifier.send("release_failed", OFFICER, f"{self._id}: {err.cause or err}")
            return 0
        s.holds_money = False
        s.reserved_idr = 0
        if moved.amount_idr:
            self.incentive.event("released", f"{moved.amount_idr} IDR back to the fund: {reason}")
        await self.tell(moved.promotions)
        return moved.amount_idr

    async def claw_back(self, amount_idr: int, reason: str, *, actor: str | None, step: str) -> None:
        """Money recovered from the production goes back to the fund (and may promote waiting applications)."""
        moved = await calls.claw_back(FundMoveInput(incentive_id=self._id, amount_idr=amount_idr,
                                                    key=f"{self._id}:{step}", actor=actor or "system", reason=reason))
        self.incentive.s.clawed_back_idr += moved.amount_idr
        self.incentive.event("clawed_back", f"{moved.amount_idr} IDR: {reason}", actor=actor)
        self.notifier.send("clawed_back", APPLICANT, f"{moved.amount_idr} IDR: {reason}")
        await self.tell(moved.promotions)

    async def tell(self, promotions: list[FundPromotion]) -> None:
        """Tell each waiting incentive the fund now holds money for it (a closed one is no longer waiting)."""
        for promotion in promotions:
            try:
                await workflow.get_external_workflow_handle(promotion.incentive_id).signal(
                    SIGNAL_FUND_PROMOTED, promotion)
            except Exception:  # noqa: BLE001 — it ended meanwhile; its own closing releases what it holds
                workflow.logger.info("Promoted incentive %s is no longer running", promotion.incentive_id)

