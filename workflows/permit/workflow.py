"""A filming permit application (design §3): intake, one clearance per agency, payment, issue, completion.

The workflow id is the application id; its `status` query answers `GET /v1/permits/{id}`. `run`
goes through the lifecycle one `Phase` at a time, each step returning the next. People act through
updates, each with a validator that refuses bad input before it enters history: `cancel`, `amend`,
`answer_information` and `decide`. Signals carry machine events: clearance views and payments.
Every change of the status view bumps a version, which the projector sends to the read model.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from temporalio import workflow
from temporalio.exceptions import ApplicationError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from domain.jakarta import jakarta_date
    from schemas.contracts import (
        PERMIT_WORKFLOW,
        QUERY_STATUS,
        RECORD_APPLICATION,
        SIGNAL_CLEARANCE_CHANGED,
        SIGNAL_INCENTIVE_LINKED,
        SIGNAL_INFORMATION_ANSWER,
        SIGNAL_PAYMENT,
        STATE_CONFLICT,
        UPDATE_AMEND,
        UPDATE_ANSWER,
        UPDATE_CANCEL,
        UPDATE_DECIDE,
        IssueDocumentInput,
        PermitWorkflowInput,
        ProjectionInput,
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
    from schemas.incentive_contracts import IncentiveLink, PermitEventKind
    from schemas.problems import Problem
    from schemas.status import (
        ApplicationStatus,
        ClearanceStatus,
        ClearanceView,
        PaymentView,
        PermitStatusView,
        RefundReason,
    )
    from workflows import calls
    from workflows.lane import LocalLane
    from workflows.notifier import APPLICANT, OFFICER, Notifier, agency_audience
    from workflows.permit import amendments, decisions, review
    from workflows.permit.application import Application
    from workflows.permit.children import ClearanceWorkflows
    from workflows.permit.clearances import ChildPhase
    from workflows.permit.linked import LinkedIncentives
    from workflows.permit.search import SearchAttributes
    from workflows.permit.state import Closing, Phase
    from workflows.projector import Projector
    from workflows.refusals import invalid_request, state_conflict
    from workflows.waiting import wait_until


@workflow.defn(name=PERMIT_WORKFLOW)
class PermitApplicationWorkflow:
    """One permit application from submission to completion (or rejection, withdrawal, lapse)."""

    @workflow.init
    def __init__(self, input: PermitWorkflowInput) -> None:
        self.app = Application(input, SearchAttributes.from_start(workflow.info().typed_search_attributes))
        self.s = self.app.s
        self.lane = LocalLane()  # the notifier's and the projector's local activities, one at a time
        self.notifier = Notifier(input.application_id, input.organisation_id, input.application.applicant.webhook_url,
                                 self.lane)
        self.projector = Projector(RECORD_APPLICATION, lambda: self.s.version, self._projection, self.lane)
        self.linked = LinkedIncentives(input.application_id)
        self.children = ClearanceWorkflows(self.app)

    # ---- machine events ---------------------------------------------------------------

    @workflow.signal(name=SIGNAL_CLEARANCE_CHANGED)
    def clearance_changed(self, view: ClearanceView) -> None:
        """A clearance workflow's new view of itself (views of a superseded revision are ignored)."""
        clearance = self.app.clearances.find(view.agency, view.revision)
        if clearance is None or not clearance.current:
            workflow.logger.info("Ignoring a view of agency %s revision %s", view.agency, view.revision)
            return
        if clearance.view.status.is_final and not view.status.is_final:
            return  # stale
        self.app.put_view(clearance, view)

    @workflow.signal(name=SIGNAL_PAYMENT)
    def payment_received(self, payment: Payment) -> None:
        """The payment provider's webhook; each payment_id counts once. Recorded always: it waits to be matched, or
        becomes a refund at once when the application is closing or owes nothing."""
        self._refunds_due([refund] if (refund := self.app.receive_payment(payment)) else [])

    @workflow.signal(name=SIGNAL_INCENTIVE_LINKED)
    def incentive_linked(self, link: IncentiveLink) -> None:
        """An incentive application names this permit: it hears of photography and of the permit's end."""
        self.linked.link(link.incentive_id)
        self.app.event("incentive_linked", link.incentive_id)

    # ---- people's actions: updates, each refused by its validator before it enters history ----

    @workflow.update(name=UPDATE_CANCEL)
    async def cancel(self, request: CancelRequest) -> PermitStatusView:
        """The applicant cancels: withdrawn at once; open requests are then withdrawn at their agencies."""
        self.s.cancel = request
        self.app.event("cancelled", request.reason, actor=request.actor)
        self.app.set_status(ApplicationStatus.withdrawn, request.reason)
        return self.status()

    @cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:
        s = self.s
        if s.cancel is not None:
            raise state_conflict(f"application {s.application_id} is already cancelled")
        if s.ended:
            raise state_conflict(f"application {s.application_id} is already {s.status.value}: there is nothing "
                                 "left to cancel")

    @workflow.update(name=UPDATE_AMEND)
    async def amend(self, amendment: Amendment) -> AmendmentResult:
        """A new revision: plan again, ask again only the agencies whose inputs changed, keep the other decisions."""
        s = self.s
        s.amending = True
        try:
            plan = await calls.plan(amendment.application, s.input.submitted_at)
        finally:
            s.amending = False  # plain state: safe to set even while an evicted run is torn down
        self.app.touch()  # wakes the review, which waits while an amendment is planned
        if s.cancel is not None or s.ended:
            raise ApplicationError(f"application {s.application_id} ended ({s.status.value}) while the amendment "
                                   "was planned", type=STATE_CONFLICT, non_retryable=True)
        if not plan.lead_time_ok and s.expedite is None:
            raise invalid_request(f"amendment of {s.application_id} refused", [Problem(
                path=amendments.first_day_path(amendment.application),
                message=f"lead time too short: the earliest feasible start is {plan.earliest_feasible_start}")])
        return self.app.revise(amendment, plan)

    @amend.validator
    def _validate_amend(self, amendment: Amendment) -> None:
        s = self.s
        if s.cancel is not None or s.ended:
            raise state_conflict(f"application {s.application_id} is {s.status.value}: it can no longer be amended")
        if s.amending:
            raise state_conflict(f"application {s.application_id}: an earlier amendment is still being applied; "
                                 "try again shortly")
        if s.phase in (Phase.intake, Phase.expedite):
            waits = " (an expedite request waits for an officer)" if s.phase is Phase.expedite else ""
            raise state_conflict(f"application {s.application_id} is still in intake{waits}; amend it once its "
                                 "clearances are under way")
        found = amendments.problems(s.input.application, amendment.application, jakarta_date(workflow.now()))
        if found:
            raise invalid_request(f"amendment of {s.application_id} refused", found)

    @workflow.update(name=UPDATE_ANSWER)
    async def answer_information(self, answer: InformationAnswer) -> PermitStatusView:
        """The applicant answers an open information request: forwarded to the clearance that asked."""
        (clearance,) = self.app.asking(answer.request_id)  # the validator checked
        assert clearance.handle is not None
        try:
            await clearance.handle.signal(SIGNAL_INFORMATION_ANSWER, answer)
        except Exception as err:  # noqa: BLE001 — it closed meanwhile (lapsed, decided)
            raise state_conflict(f"request {answer.request_id}: the {clearance.agency} clearance has closed") from err
        self.app.event("information_answered", f"{clearance.agency}: request {answer.request_id}", actor=answer.actor)
        return self.status()

    @answer_information.validator
    def _validate_answer(self, answer: InformationAnswer) -> None:
        s = self.s
        if s.ended:
            raise state_conflict(f"application {s.application_id} is {s.status.value}: no information request is open")
        if not self.app.asking(answer.request_id):
            open_ids = ", ".join(str(c.view.information_request_id) for c in self.app.asking()) or "none"
            raise invalid_request(f"answer to application {s.application_id} refused", [Problem(
                path="request_id", message=f"{answer.request_id!r} is not an open information request of "
                                           f"application {s.application_id} (open: {open_ids})")])

    @workflow.update(name=UPDATE_DECIDE)
    async def decide(self, decision: OfficerDecision) -> PermitStatusView:
        """An officer decides: an expedite, an open clearance, a rejection to confirm, or overrides a final outcome."""
        s = self.s
        if decision.kind == OfficerDecisionKind.expedite:
            s.expedite = decision
            await workflow.wait_condition(lambda: s.phase is not Phase.expedite)
            return self.status()
        clearance = self.app.clearances.get(decision.agency or "")
        assert clearance is not None  # the validator checked
        if decision.kind == OfficerDecisionKind.override:
            self.app.override(clearance, decision)
        elif clearance.view.rejection_to_confirm and decision.outcome == Outcome.rejected:
            self.app.confirm_rejection(clearance, decision)
        elif clearance.view.rejection_to_confirm:
            self.app.override(clearance, decision)
        else:
            await self.children.decide(clearance, decision)
        if decision.outcome == Outcome.rejected:  # the application closes: answer when it has
            await workflow.wait_condition(lambda: s.ended)
        return self.status()

    @decide.validator
    def _validate_decide(self, decision: OfficerDecision) -> None:
        s = self.s
        if s.ended or s.cancel is not None:
            raise state_conflict(f"application {s.application_id} is {s.status.value}: there is nothing left to "
                                 "decide")
        found = decisions.problems(decision, self.app.clearances.views(), application_id=s.application_id,
                                   expedite_waiting=s.phase is Phase.expedite and s.expedite is None)
        if found:
            raise invalid_request(f"decision on {s.application_id} refused", found)

    @workflow.query(name=QUERY_STATUS)
    def status(self) -> PermitStatusView:
        return self.app.status()

    # ---- the lifecycle ------------------------------------------------------------------

    @workflow.run
    async def run(self, input: PermitWorkflowInput) -> PermitStatusView:
        s = self.s
        steps: dict[Phase, Callable[[], Awaitable[Phase]]] = {
            Phase.intake: self._intake, Phase.expedite: self._await_expedite, Phase.review: self._review,
            Phase.payment: self._collect_payment, Phase.issue: self._issue, Phase.issued: self._await_completion,
            Phase.closing: self._close,
        }
        self.projector.start()
        self.app.event("submitted", "")
        try:
            while s.phase is not Phase.done:
                s.phase = await steps[s.phase]()
        except BaseException as err:
            if is_cancelled_exception(err) and workflow.cancellation_reason() is not None:  # cancelled from outside
                if s.phase is not Phase.done:
                    s.closing = s.closing or Closing(status=ApplicationStatus.withdrawn,
                                                     reason="the application was cancelled")
                    s.phase = await self._close()
                await workflow.wait_condition(lambda: self.notifier.idle() and self.linked.idle()
                                              and self.projector.caught_up() and self.app.search.idle())
            raise
        await workflow.wait_condition(
            lambda: workflow.all_handlers_finished() and self.notifier.idle() and self.linked.idle()
            and self.projector.caught_up() and self.app.search.idle()
        )
        workflow.logger.info("Application %s ended %s", s.application_id, s.status.value)
        return self.status()

    async def _intake(self) -> Phase:
        """Plan the application (the starter's plan when it sent one: the API's, which the applicant was answered
        with); a too-short lead time needs an officer's expedite, or it is rejected."""
        s = self.s
        self.app.set_status(ApplicationStatus.intake)
        plan = s.plan or await calls.plan(s.input.application, s.input.submitted_at)
        if s.cancel is not None:
            return self.app.after_interrupt()
        s.plan, s.fees = plan, plan.fees
        codes = ", ".join(r.agency.code.value for r in plan.agencies) or "none"
        self.app.event("planned", f"rule set {plan.rule_set}; agencies: {codes}; "
                                  f"lead time {plan.lead_time_business_days} business days")
        if plan.lead_time_ok:
            return self.app.begin_review()
        why = (f"lead time too short: first shoot day {s.input.application.first_shoot_date}, "
               f"earliest feasible start {plan.earliest_feasible_start}")
        if not s.input.application.expedite.requested:
            return self.app.closing(ApplicationStatus.rejected, why)
        self.app.set_status(ApplicationStatus.officer_review, f"expedite requested; {why}")
        self.notifier.send("expedite_requested", OFFICER, why)
        return Phase.expedite

    async def _await_expedite(self) -> Phase:
        """An officer grants the expedite request (on to the clearances) or refuses it (rejected)."""
        s = self.s
        await workflow.wait_condition(lambda: s.expedite is not None or s.cancel is not None)
        if s.expedite is None:
            return self.app.after_interrupt()
        granted = s.expedite.outcome != Outcome.rejected
        self.app.event("expedite_granted" if granted else "expedite_refused", s.expedite.reason,
                       actor=s.expedite.officer)
        if not granted:
            return self.app.closing(ApplicationStatus.rejected, f"expedite refused: {s.expedite.reason}")
        return self.app.begin_review()

    async def _review(self) -> Phase:
        """Run the clearances, independent ones at once, dependent ones once their dependencies approve.

        Payment next once every clearance approved; closing when one rejection is final or a request lapsed.
        """
        s, app = self.s, self.app
        while True:
            s.back_to_review = False
            if s.cancel is not None:
                return app.after_interrupt()
            self.children.start_ready()
            verdict = review.verdict(app.clearances.views())
            if verdict.status is not None:
                return app.closing(verdict.status, verdict.reason)
            if verdict.approved and not s.amending:
                return Phase.payment
            for agency in verdict.to_flag:
                clearance = app.clearances.get(agency)
                assert clearance is not None
                app.put_view(clearance, clearance.view.model_copy(update={
                    "needs_officer": True, "reason": "the clearance was withdrawn outside the application"}))
            views = app.clearances.views()
            app.set_status(ApplicationStatus.amended if s.permit is not None else review.review_status(views))
            seen = s.version
            await workflow.wait_condition(lambda: s.version != seen)

    async def _collect_payment(self) -> Phase:
        """Ask for what is due and wait for a payment that settles it; none by the deadline: lapsed."""
        s, app = self.s, self.app
        assert s.plan is not None
        if app.due() == 0:
            self._refunds_due(app.refund_waiting(RefundReason.already_paid, "nothing was due"))
            return Phase.issue
        s.payment_deadline = deadline = await calls.business_deadline(
            workflow.now(), s.plan.payment_business_days, s.plan.calendar)
        app.set_status(ApplicationStatus.awaiting_payment, f"{app.due()} IDR due by {deadline.isoformat()}")
        self.notifier.send("payment_due", APPLICANT, f"{app.due()} IDR by {deadline.isoformat()}")
        while True:
            if not await wait_until(lambda: bool(s.payments) or app.interrupted(), deadline, "payment"):
                return self._stop_waiting_for_payment(app.closing(
                    ApplicationStatus.lapsed, f"no payment within {s.plan.payment_business_days} business days"))
            if app.interrupted():
                return self._stop_waiting_for_payment(app.after_interrupt())
            settled, refunds = app.take_payments()
            self._refunds_due(refunds)
            if settled:
                return self._stop_waiting_for_payment(Phase.issue)

    def _stop_waiting_for_payment(self, next_phase: Phase) -> Phase:
        self.s.payment_deadline = None
        self.app.touch()
        return next_phase

    def _refunds_due(self, refunds: list[PaymentView]) -> None:
        """Tell the officers of each refund to make (the officer queue lists them too, from the read model)."""
        for refund in refunds:
            self.notifier.send("refund_due", OFFICER, f"payment {refund.payment_id}: {refund.detail}")

    async def _issue(self) -> Phase:
        """Issue the permit (after an amendment: the same number, a new document)."""
        s, app = self.s, self.app
        assert s.fees is not None
        again = s.permit is not None
        revision, document = s.revision, IssueDocumentInput(
            application_id=s.application_id, application=s.input.application, clearances=app.clearances.views(),
            fees=s.fees, issued_at=workflow.now(), public_base_url=s.input.public_base_url)
        result = await calls.issue_document(document)
        app.record_issue(result.permit, document, revision)
        if s.cancel is not None:
            return app.after_interrupt()
        detail = result.permit.number if not again else f"{result.permit.number} (revision {s.revision})"
        app.set_status(ApplicationStatus.issued, detail)
        self.notifier.send("permit_issued", APPLICANT, detail)
        for view in app.clearances.views():
            self.notifier.send("permit_issued", agency_audience(view.agency), detail, agency=view.agency)
        return Phase.issued

    async def _await_completion(self) -> Phase:
        """An issued permit: photography begins on the first shoot day, and it is done the day after the last
        (Jakarta), unless amended or cancelled first. Linked incentives hear of both."""
        app = self.s.input.application
        if not self.linked.happened(PermitEventKind.photography_started):
            if await wait_until(self.app.interrupted, review.day_start(app.first_shoot_date), "photography"):
                return self.app.after_interrupt()
            self.linked.tell(PermitEventKind.photography_started, self.s.status.value, self._shoot_dates())
        if await wait_until(self.app.interrupted, review.day_after_last_shoot(app.last_shoot_date), "completion"):
            return self.app.after_interrupt()
        self.app.set_status(ApplicationStatus.completed)
        self._refunds_due(self.app.refund_waiting(RefundReason.application_closed, "the application is completed"))
        self.linked.tell(PermitEventKind.photography_ended, ApplicationStatus.completed.value, self._shoot_dates())
        return Phase.done

    def _shoot_dates(self) -> list[dt.date]:
        return sorted({day.date for loc in self.s.input.application.locations for day in loc.days})

    async def _close(self) -> Phase:
        """End the application: open clearances are cancelled (they withdraw at their agencies); wait for them."""
        s, app = self.s, self.app
        assert s.closing is not None
        status = s.closing.status
        app.set_status(status, s.closing.reason)
        self._refunds_due(app.refund_waiting(RefundReason.application_closed, f"the application is {status.value}"))
        for clearance in app.clearances.current():
            if clearance.phase is ChildPhase.waiting and not clearance.view.status.is_final:
                clearance.phase = ChildPhase.closed
                app.put_view(clearance, clearance.view.model_copy(update={
                    "status": ClearanceStatus.withdrawn, "reason": f"not sent: application {status.value}"}))
        for clearance in app.clearances.open():
            clearance.request_cancel()
        await workflow.wait_condition(app.clearances.all_closed)
        self.notifier.send(f"application_{status.value}", APPLICANT, s.closing.reason)
        self.linked.tell(PermitEventKind.permit_closed, status.value, self._shoot_dates())
        return Phase.done

    def _projection(self, version: int) -> ProjectionInput:
        return ProjectionInput(workflow_id=workflow.info().workflow_id, seq=version, view=self.status())
