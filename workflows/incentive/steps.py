"""The incentive's lifecycle steps after its assessment (design §4); each returns the next phase."""

from __future__ import annotations

from temporalio import workflow

from domain import incentives
from schemas.contracts import audit_request_key
from schemas.incentive_api import AuditRequest
from schemas.incentive_contracts import AuditRequestInput, CertificateInput
from schemas.incentives import (
    AuditView,
    CertificateKind,
    CommitteeView,
    IncentiveStatus,
    Programme,
    Tranche,
    TrancheStatus,
)
from workflows import calls as shared_calls
from workflows.incentive import calls
from workflows.incentive.money import Money
from workflows.incentive.record import Incentive, add_months
from workflows.incentive.state import Phase
from workflows.notifier import APPLICANT, OFFICER, Notifier
from workflows.waiting import wait_until

PHOTOGRAPHY_START = "photography_start"


class Steps:
    """The steps, on one incentive's record, notifier and money."""

    def __init__(self, incentive: Incentive, notifier: Notifier) -> None:
        self.incentive = incentive
        self.s = incentive.s
        self.notifier = notifier
        self.money = Money(incentive, notifier)

    # ---- money from the fund -----------------------------------------------------------------

    async def reserve(self) -> Phase:
        s = self.s
        result = await self.money.reserve(s.estimated_idr)
        if result.state == "reserved":
            s.reserved_idr = result.reserved_idr
            self.incentive.set_status(IncentiveStatus.reserved, f"{result.reserved_idr} IDR")
            return Phase.interim
        self.incentive.set_status(IncentiveStatus.waitlisted, f"position {result.position} on the waiting list")
        self.notifier.send("incentive_waitlisted", APPLICANT, f"position {result.position}")
        return Phase.waiting

    async def await_room(self) -> Phase:
        """On the waiting list until a release promotes it; past the photography deadline it expires."""
        s = self.s
        s.deadline = self.incentive.photography_deadline()
        promoted = lambda: s.promotion is not None or self.incentive.interrupted()  # noqa: E731
        if not await wait_until(promoted, s.deadline, "waiting list"):
            return self.incentive.closing(IncentiveStatus.expired, f"no money became free in the fund by "
                                                                   f"{s.deadline.date()}")
        if s.promotion is None:
            return self.incentive.after_interrupt()
        s.reserved_idr = s.promotion.reserved_idr
        self.incentive.event("promoted", f"{s.reserved_idr} IDR reserved from the waiting list")
        self.incentive.set_status(IncentiveStatus.reserved, f"{s.reserved_idr} IDR")
        return Phase.interim

    async def interim(self) -> Phase:
        s = self.s
        s.tranches = incentives.tranche_plan(s.input.programme, s.reserved_idr)
        await self._certify(CertificateKind.interim, s.reserved_idr)
        self.incentive.set_status(IncentiveStatus.awaiting_photography)
        return Phase.photography

    async def photography(self) -> Phase:
        """Until the linked permit's photography begins (then the first tranche), or the reservation expires."""
        s = self.s
        s.deadline = self.incentive.photography_deadline()
        began = lambda: s.photography_started_at is not None or self.incentive.interrupted()  # noqa: E731
        if not await wait_until(began, s.deadline, "photography"):
            return self.incentive.closing(IncentiveStatus.expired, f"photography did not begin by {s.deadline.date()}")
        if self.incentive.interrupted():
            return self.incentive.after_interrupt()
        s.deadline = None
        self.incentive.touch()  # the view changed even when no tranche is paid now (a grant waits for its report)
        for tranche in s.tranches:
            if tranche.milestone == PHOTOGRAPHY_START and tranche.status != TrancheStatus.paid:
                await self.money.pay(tranche)
        self.incentive.set_status(IncentiveStatus.awaiting_photography)
        return Phase.claim

    # ---- claims, audit, committee ---------------------------------------------------------------

    def next_milestone(self) -> str | None:
        """First-feature fund: the milestone whose tranche comes next (None for the other programmes)."""
        if self.incentive.programme != Programme.first_feature_fund:
            return None
        return next((t.milestone for t in self.s.tranches if t.status == TrancheStatus.scheduled), None)

    async def claim(self) -> Phase:
        s = self.s
        if self.incentive.programme == Programme.first_feature_fund:
            return await self._milestones()
        await workflow.wait_condition(lambda: s.photography_ended_at is not None or self.incentive.interrupted())
        if self.incentive.interrupted():
            return self.incentive.after_interrupt()
        returned = s.committee.returned_reason is not None
        s.deadline = (add_months(workflow.now(), 1) if returned else self.incentive.claim_deadline()) or workflow.now()
        self.incentive.set_status(IncentiveStatus.returned if returned else IncentiveStatus.claim_due,
                                  f"due by {s.deadline.isoformat()}")
        self.notifier.send("claim_due", APPLICANT, f"due by {s.deadline.isoformat()}")
        came = lambda: bool(s.claims) or self.incentive.interrupted()  # noqa: E731
        if not await wait_until(came, s.deadline, "claim"):
            return self.incentive.closing(IncentiveStatus.lapsed, f"no claim by {s.deadline.date()}")
        if self.incentive.interrupted():
            return self.incentive.after_interrupt()
        s.claim = s.claims.pop(0).claim
        s.deadline = None
        self.incentive.touch()
        return Phase.audit if self.incentive.programme == Programme.location_rebate else Phase.settle

    async def _milestones(self) -> Phase:
        """First-feature fund: each reported milestone pays its tranche."""
        s = self.s
        while (milestone := self.next_milestone()) is not None:
            self.incentive.set_status(IncentiveStatus.claim_due, f"next milestone: {milestone}")
            await workflow.wait_condition(lambda: bool(s.claims) or self.incentive.interrupted())
            if self.incentive.interrupted():
                return self.incentive.after_interrupt()
            s.claim = s.claims.pop(0).claim
            tranche = next(t for t in s.tranches if t.milestone == milestone)
            await self.money.pay(tranche)
        return Phase.final

    def audit_key(self) -> str:
        return audit_request_key(self.s.incentive_id, self.s.audit_round)

    async def audit(self) -> Phase:
        """The independent audit firm audits the claim; past its SLA an officer is told, and it still waits."""
        s, inp = self.s, self.s.input
        assert s.claim is not None and inp.programme.rebate is not None
        s.audit_round += 1
        s.audit_decisions.clear()
        receipt = await calls.request_audit(AuditRequestInput(party=inp.audit, request=AuditRequest(
            request_key=self.audit_key(), incentive_id=s.incentive_id, programme=inp.programme.code.value,
            applicant_company=inp.permit.applicant_company if inp.permit else "",
            production_title=inp.permit.production_title if inp.permit else "", lines=s.claim.lines,
            total_idr=s.claim.total_idr or 0,
            callback_url=f"{inp.callback_base_url.rstrip('/')}/v1/auditors/decisions")))
        now = workflow.now()
        due = await shared_calls.business_deadline(now, inp.programme.rebate.audit_sla_business_days)
        s.audit = AuditView(reference=receipt.reference, requested_at=now, due_at=due)
        s.deadline = due
        self.incentive.set_status(IncentiveStatus.under_audit, f"audit {receipt.reference}, due {due.isoformat()}")
        decided = lambda: bool(s.audit_decisions) or self.incentive.interrupted()  # noqa: E731
        if not await wait_until(decided, due, "audit"):
            self.incentive.event("audit_overdue", f"audit {receipt.reference} was due {due.isoformat()}")
            self.notifier.send("audit_overdue", OFFICER, f"{s.incentive_id}: audit {receipt.reference}")
            await workflow.wait_condition(decided)
        if self.incentive.interrupted():
            return self.incentive.after_interrupt()
        decision = s.audit_decisions.pop(0)
        settlement = self._settlement(decision.qualifying_idr, decision.post_production_idr)
        s.audit = s.audit.model_copy(update={
            "decided_at": workflow.now(), "qualifying_idr": decision.qualifying_idr,
            "post_production_idr": decision.post_production_idr, "rebate_idr": settlement.rebate_idr,
            "notes": decision.notes})
        s.deadline = None
        self.incentive.event("audited", settlement.detail)
        return Phase.committee

    def _settlement(self, qualifying_idr: int, post_production_idr: int) -> incentives.Settlement:
        s = self.s
        assert s.input.programme.rebate is not None and s.rate is not None
        return incentives.settle_rebate(s.input.programme.rebate, s.rate, qualifying_idr, post_production_idr,
                                        reserved_idr=s.reserved_idr + s.paid_idr, paid_idr=s.paid_idr)

    async def committee(self) -> Phase:
        """Two different officers approve; one rejection returns the claim once, a second ends the incentive."""
        s = self.s
        assert s.input.programme.rebate is not None
        needed = s.input.programme.rebate.committee_approvals
        s.committee = CommitteeView(round=s.committee.round + 1, returned_reason=s.committee.returned_reason)
        self.incentive.set_status(IncentiveStatus.committee, f"round {s.committee.round}")
        self.notifier.send("committee_review", OFFICER, f"{s.incentive_id}: {needed} approvals needed")

        def settled() -> bool:
            approvals = {v.officer for v in s.committee.votes if v.outcome == "approve"}
            return (len(approvals) >= needed or any(v.outcome == "reject" for v in s.committee.votes)
                    or self.incentive.interrupted())

        await workflow.wait_condition(settled)
        if self.incentive.interrupted():
            return self.incentive.after_interrupt()
        rejection = next((v for v in s.committee.votes if v.outcome == "reject"), None)
        if rejection is None:
            return Phase.settle
        if s.committee.round == 1:
            s.committee.returned_reason = rejection.reason
            self.notifier.send("claim_returned", APPLICANT, rejection.reason)
            return Phase.claim
        return self.incentive.closing(IncentiveStatus.rejected, f"the committee rejected the claim again: "
                                                                f"{rejection.reason}")

    # ---- paying out ------------------------------------------------------------------------------

    async def settle(self) -> Phase:
        """Rebate: the final tranche (audited rebate less what was paid) or a clawback; then the rest is released."""
        s = self.s
        if self.incentive.programme == Programme.location_rebate:
            assert s.audit is not None and s.audit.qualifying_idr is not None
            settlement = self._settlement(s.audit.qualifying_idr, s.audit.post_production_idr or 0)
            final = next((t for t in s.tranches if t.status == TrancheStatus.scheduled), None)
            if final is None:
                final = Tranche(n=len(s.tranches) + 1, amount_idr=0, milestone="final")
                s.tranches.append(final)
            final.amount_idr = settlement.final_tranche_idr
            if final.amount_idr > 0:
                await self.money.pay(final)
            else:
                final.status = TrancheStatus.cancelled
            if settlement.clawback_idr > 0:
                await self.money.claw_back(settlement.clawback_idr, "the first tranche exceeded the audited rebate",
                                           actor=None, step="clawback:settlement")
            self.incentive.event("settled", settlement.detail)
        else:
            for tranche in s.tranches:
                if tranche.status == TrancheStatus.scheduled:
                    await self.money.pay(tranche)
        await self.money.release("settled: what was not paid goes back to the fund", step="release:settlement")
        return Phase.final

    async def final(self) -> Phase:
        await self._certify(CertificateKind.final, self.s.paid_idr - self.s.clawed_back_idr)
        return Phase.clawback_window

    async def clawback_window(self) -> Phase:
        """Officers may claw back (with a reason) until the window closes; then the incentive is completed."""
        s = self.s
        s.deadline = add_months(workflow.now(), s.input.programme.clawback_window_months)
        self.incentive.set_status(IncentiveStatus.clawback_window, f"until {s.deadline.isoformat()}")
        await workflow.sleep(s.deadline - workflow.now(), summary="clawback window")
        await workflow.wait_condition(lambda: not s.clawbacks_pending)
        s.deadline = None
        self.incentive.set_status(IncentiveStatus.completed)
        return Phase.done

    async def close(self) -> Phase:
        """Ends without completing: the unpaid reservation goes back to the fund (the saga's compensation)."""
        s = self.s
        assert s.closing is not None
        s.deadline = None
        self.incentive.set_status(s.closing.status, s.closing.reason)
        if s.holds_money:
            await self.money.release(f"{s.closing.status.value}: {s.closing.reason}", step="release:closing")
        self.notifier.send(f"incentive_{s.closing.status.value}", APPLICANT, s.closing.reason)
        return Phase.done

    async def _certify(self, kind: CertificateKind, amount_idr: int) -> None:
        s, inp = self.s, self.s.input
        result = await calls.certificate(CertificateInput(
            incentive_id=s.incentive_id, kind=kind, programme=inp.programme,
            production_title=inp.permit.production_title if inp.permit else "",
            applicant_company=inp.permit.applicant_company if inp.permit else "",
            permit_id=inp.application.permit_id, fiscal_year=inp.application.fiscal_year, amount_idr=amount_idr,
            tranches=s.tranches, issued_at=workflow.now(), public_base_url=inp.public_base_url))
        s.certificates.append(result.certificate)
        self.incentive.event("certificate_issued", f"{kind.value} {result.certificate.number}")
        self.notifier.send("certificate_issued", APPLICANT, f"{kind.value} {result.certificate.number}")

