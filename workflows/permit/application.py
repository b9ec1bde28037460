"""The application as the permit workflow keeps it: its state, its clearances, and every change to its status view.

Everything here is synchronous: no activity, no timer. The workflow's steps and handlers call it,
and each change bumps the version the projector sends to the read model.
"""

from __future__ import annotations

import datetime as dt

from temporalio import workflow

from schemas.contracts import ApplicationPlan, IssueDocumentInput, PermitWorkflowInput
from schemas.decisions import Amendment, AmendmentResult, OfficerDecision, Payment
from schemas.status import (
    ApplicationStatus,
    ClearanceStatus,
    ClearanceView,
    IssuedRevision,
    PaymentView,
    PermitInfo,
    PermitStatusView,
    RefundReason,
    TimelineEvent,
    location_views,
)
from workflows.permit import amendments, decisions, payments, review
from workflows.permit.clearances import ChildPhase, Clearance, Clearances
from workflows.permit.search import SearchAttributes
from workflows.permit.state import Closing, Phase, PermitState

OPEN_STATUSES = frozenset({ApplicationStatus.in_review, ApplicationStatus.awaiting_information,
                           ApplicationStatus.officer_review, ApplicationStatus.awaiting_payment})


class Application:
    """One permit application: state, clearances, timeline and search attributes, changed together."""

    def __init__(self, input: PermitWorkflowInput, search: SearchAttributes) -> None:
        self.s = PermitState(input=input.model_copy(update={"plan": None}), plan=input.plan)  # one copy: s.plan
        self.clearances = Clearances(input.application_id)
        self.search = search

    @property
    def id(self) -> str:
        return self.s.application_id

    # ---- the status view --------------------------------------------------------------

    def status(self) -> PermitStatusView:
        s = self.s
        app = s.input.application
        return PermitStatusView(
            id=s.application_id, status=s.status, organisation_id=s.input.organisation_id, revision=s.revision,
            awaiting_expedite=s.phase is Phase.expedite, rule_set=s.plan.rule_set if s.plan else None,
            submitted_at=s.input.submitted_at, production_title=app.production.title,
            applicant_company=app.applicant.company, locations=location_views(app.locations),
            clearances=self.clearances.views(), fees=s.fees, payments=s.received, permit=s.permit, timeline=s.timeline,
            next_deadline=self.next_deadline(), issued=s.issued,
            earliest_feasible_start=s.plan.earliest_feasible_start if s.plan else None,
        )

    def record_issue(self, permit: PermitInfo, document: IssueDocumentInput, revision: int) -> None:
        """The permit document of `revision` is made: the permit, and what it says (the verify page shows that)."""
        self.s.permit = permit
        self.s.issued = IssuedRevision(revision=revision, issued_at=document.issued_at,
                                       locations=location_views(document.application.locations),
                                       clearances=document.clearances, fees=document.fees)

    def next_deadline(self) -> dt.datetime | None:
        if self.s.status not in OPEN_STATUSES:
            return None
        return review.next_deadline(self.clearances.views(), self.s.payment_deadline)

    def event(self, event: str, detail: str, actor: str | None = None) -> None:
        self.s.timeline.append(TimelineEvent(at=workflow.now(), event=event, detail=detail, actor=actor))
        self.touch()

    def set_status(self, status: ApplicationStatus, detail: str = "") -> None:
        if status != self.s.status:
            self.s.status = status
            self.event(status.value, detail)

    def touch(self) -> None:
        """The status view changed: a new version for the projector, and current search attributes."""
        self.s.version += 1
        self.search.sync(self.s.status, self.next_deadline())

    def put_view(self, clearance: Clearance, view: ClearanceView) -> None:
        """Replace a clearance's view (keeping the dependencies the plan gave it) and record what changed."""
        old = clearance.view
        new = view.model_copy(update={"depends_on": old.depends_on})
        if new == old:
            return
        for event, detail, actor in review.view_change_events(old, new):
            self.event(event, detail, actor=actor)
        clearance.view = new
        self.touch()

    # ---- where the lifecycle goes next -------------------------------------------------------

    def closing(self, status: ApplicationStatus, reason: str) -> Phase:
        self.s.closing = Closing(status=status, reason=reason)
        return Phase.closing

    def interrupted(self) -> bool:
        """A cancellation, or an amendment or override that sends the application back to its clearances."""
        return self.s.cancel is not None or self.s.back_to_review

    def after_interrupt(self) -> Phase:
        s = self.s
        return self.closing(ApplicationStatus.withdrawn, s.cancel.reason) if s.cancel is not None else Phase.review

    def begin_review(self) -> Phase:
        assert self.s.plan is not None
        self.clearances.set_current([self.clearances.new(routed, 1) for routed in self.s.plan.agencies])
        self.set_status(ApplicationStatus.in_review)
        return Phase.review

    # ---- clearances -------------------------------------------------------------------

    def flag(self, clearance: Clearance, reason: str) -> None:
        """The clearance needs an officer (its workflow could not run): the officer decides in its place."""
        if clearance.current and not clearance.view.status.is_final:
            self.put_view(clearance, clearance.view.model_copy(update={"needs_officer": True, "reason": reason}))

    def override(self, clearance: Clearance, decision: OfficerDecision) -> None:
        """The officer's outcome replaces a final one (recorded with the reason and the officer)."""
        new = decisions.overridden(clearance.view, decision, workflow.now())
        self.event("officer_override", f"{clearance.agency}: {clearance.view.status.value} -> {new.status.value} by "
                                       f"officer {decision.officer}: {decision.reason}", actor=decision.officer)
        self.put_view(clearance, new)
        self.s.back_to_review = True

    def confirm_rejection(self, clearance: Clearance, decision: OfficerDecision) -> None:
        self.event("rejection_confirmed", f"{clearance.agency}: {decision.reason}", actor=decision.officer)
        self.put_view(clearance, decisions.confirmed(clearance.view))

    def decide_here(self, clearance: Clearance, decision: OfficerDecision) -> None:
        """An officer decides a clearance that has no running workflow (never started, or its workflow failed)."""
        if clearance.phase is ChildPhase.waiting:
            clearance.phase = ChildPhase.closed  # decided without asking the agency
        self.put_view(clearance, decisions.decided_here(clearance.view, decision, workflow.now()))

    def asking(self, request_id: str | None = None) -> list[Clearance]:
        """The current clearances with an open information request (only the one asking `request_id`, if given)."""
        return [
            c for c in self.clearances.current()
            if c.view.information_request_id is not None and c.view.lapsed_at is None
            and c.phase is ChildPhase.running and c.view.status == ClearanceStatus.information_required
            and (request_id is None or c.view.information_request_id == request_id)
        ]

    # ---- amendments ---------------------------------------------------------------------

    def revise(self, amendment: Amendment, plan: ApplicationPlan) -> AmendmentResult:
        """Replace the revision in one step: kept clearances stay, changed agencies are asked again."""
        s = self.s
        assert s.plan is not None
        revision = s.revision + 1
        new_input = s.input.model_copy(update={"application": amendment.application})
        change = amendments.revise(s.input, s.plan, new_input, plan, revision)
        routed = {r.agency.code.value: r for r in plan.agencies}
        current: list[Clearance] = []
        for code in change.order:
            old = self.clearances.get(code)
            if old is not None and code in change.kept:
                old.routed = routed[code]
                old.view = old.view.model_copy(update={"depends_on": change.kept[code]})
                current.append(old)
                continue
            if old is not None:
                self._supersede(old)
            current.append(self.clearances.new(routed[code], revision))
        for code in change.result.withdrawn:
            old = self.clearances.get(code)
            assert old is not None
            self._supersede(old)
            self.event("clearance_withdrawn", f"{code}: no longer needed after amendment (revision {revision})")
        self.clearances.set_current(current)
        s.revision, s.input, s.plan = revision, new_input, plan
        fees = amendments.fee_change(s.fees, plan.fees, s.paid_idr, revision)
        s.fees = fees.fees
        if fees.detail is not None:
            self.event("fees_changed", fees.detail)
        r = change.result
        self.event("amended", f"revision {revision}; requested again: {', '.join(r.requested_again) or 'none'}; "
                              f"added: {', '.join(r.added) or 'none'}; kept: {', '.join(r.kept) or 'none'}; "
                              f"withdrawn: {', '.join(r.withdrawn) or 'none'}", actor=amendment.actor)
        s.back_to_review = True
        return r

    def _supersede(self, clearance: Clearance) -> None:
        """An older revision's request is no longer wanted: withdrawn at the agency if it is still open."""
        if clearance.view.status.is_final:
            return  # decided already: the new revision is a new request
        if clearance.phase is ChildPhase.waiting:
            clearance.phase = ChildPhase.closed  # never sent
        clearance.request_cancel()

    # ---- payments ----------------------------------------------------------------------

    def due(self) -> int:
        assert self.s.fees is not None
        return max(self.s.fees.total_idr - self.s.paid_idr, 0)

    def receive_payment(self, payment: Payment) -> PaymentView | None:
        """Record a payment (once per payment_id); one that cannot be taken now becomes a refund at once, the others
        wait to be matched. Returns the refund made, if any."""
        s = self.s
        if payments.receive(s, payment, workflow.now()) is None:
            return None
        refusal = payments.refusal_on_arrival(s)
        if refusal is not None:
            return self.refund(payment, *refusal)
        s.payments.append(payment)  # shown by the status query now, projected with its outcome (the API recorded it)
        return None

    def take_payments(self) -> tuple[bool, list[PaymentView]]:
        """Match the payments received against what is due: (True once one settled it, the refunds made).

        A payment that does not settle it is refunded; so is every other one waiting once one did.
        """
        s = self.s
        assert s.fees is not None
        refunds: list[PaymentView] = []
        while s.payments:
            payment = s.payments.pop(0)
            found = payments.match(payment, application_id=s.application_id, due_idr=self.due())
            if not found.accepted:
                assert found.reason is not None
                refunds.append(self.refund(payment, found.reason, found.problem))
                continue
            s.paid_idr += payment.amount_idr
            s.fees = s.fees.model_copy(update={"paid_at": payment.paid_at, "payment_id": payment.payment_id})
            payments.matched(s, payment, workflow.now())
            self.event("paid", f"payment {payment.payment_id}: {payment.amount_idr} IDR")
            refunds += self.refund_waiting(RefundReason.already_paid, f"nothing was due: payment "
                                                                       f"{payment.payment_id} paid the fees")
            return True, refunds
        return False, refunds

    def refund_waiting(self, reason: RefundReason, why: str) -> list[PaymentView]:
        """Every payment still waiting to be matched becomes a refund (nothing is due, or the application closes)."""
        waiting, self.s.payments = self.s.payments, []
        return [self.refund(payment, reason, why) for payment in waiting]

    def refund(self, payment: Payment, reason: RefundReason, why: str) -> PaymentView:
        record = payments.refunded(self.s, payment.payment_id, reason, why, workflow.now())
        self.event(payments.REFUND_EVENTS[reason], f"payment {payment.payment_id}: {record.detail}")
        return record
