"""Stand-ins for the permit, clearance and incentive workflows: same names, input, signals, query and updates as the
real ones (the incentive one: its status query only), little logic.

They record what the API sends them, so API tests do not depend on the real workflows. Their update
validators refuse as the real ones do (workflows.refusals): an application already final is a state
conflict, an unknown information request or agency and an amendment whose production title is REFUSE
are invalid requests carrying their field problems.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.contracts import (
        CLEARANCE_WORKFLOW,
        INCENTIVE_WORKFLOW,
        PERMIT_WORKFLOW,
        QUERY_STATUS,
        SIGNAL_AGENCY_DECISION,
        SIGNAL_PAYMENT,
        UPDATE_AMEND,
        UPDATE_ANSWER,
        UPDATE_CANCEL,
        UPDATE_CLAIM,
        UPDATE_CLAWBACK,
        UPDATE_COMMITTEE,
        UPDATE_DECIDE,
        UPDATE_WITHDRAW,
        PermitWorkflowInput,
    )
    from schemas.decisions import (
        AgencyDecision,
        Amendment,
        AmendmentResult,
        CancelRequest,
        InformationAnswer,
        OfficerDecision,
        OfficerDecisionKind,
        Payment,
    )
    from schemas.incentive_contracts import (
        ClaimSubmission,
        ClawbackOrder,
        CommitteeDecision,
        IncentiveWorkflowInput,
        Withdrawal,
    )
    from schemas.incentives import IncentiveStatus, IncentiveStatusView
    from schemas.problems import Problem
    from schemas.status import ApplicationStatus, PermitStatusView, TimelineEvent, location_views
    from workflows.refusals import invalid_request, state_conflict

FINAL = {ApplicationStatus.completed, ApplicationStatus.rejected, ApplicationStatus.withdrawn, ApplicationStatus.lapsed}
REFUSED_TITLE = "REFUSE"


@workflow.defn(name=PERMIT_WORKFLOW)
class StandInPermitWorkflow:
    @workflow.init
    def __init__(self, input: PermitWorkflowInput) -> None:
        self.input = input
        self.view = PermitStatusView(
            id=input.application_id,
            status=ApplicationStatus.submitted,
            organisation_id=input.organisation_id,
            submitted_at=input.submitted_at,
            production_title=input.application.production.title,
            applicant_company=input.application.applicant.company,
            locations=location_views(input.application.locations),
        )
        self.payments: list[Payment] = []
        self.updates: list[str] = []  # "<update name>:<actor>", in the order they were applied
        self.finished = False

    @workflow.run
    async def run(self, input: PermitWorkflowInput) -> None:
        await workflow.wait_condition(lambda: self.finished)

    @workflow.query(name=QUERY_STATUS)
    def status(self) -> PermitStatusView:
        return self.view

    @workflow.query(name="payments")
    def recorded_payments(self) -> list[Payment]:
        return self.payments

    @workflow.signal(name=SIGNAL_PAYMENT)
    def payment_received(self, payment: Payment) -> None:
        self.payments.append(payment)

    @workflow.query(name="updates")
    def applied_updates(self) -> list[str]:
        return self.updates

    def _not_final(self) -> None:
        if self.view.status in FINAL:
            raise state_conflict(f"application {self.view.id} is already {self.view.status.value}")

    def _event(self, event: str, detail: str, actor: str | None = None) -> None:
        self.view.timeline.append(TimelineEvent(at=workflow.now(), event=event, detail=detail, actor=actor))

    @workflow.update(name=UPDATE_AMEND)
    def amend(self, amendment: Amendment) -> AmendmentResult:
        self.updates.append(f"{UPDATE_AMEND}:{amendment.actor}")
        self.view.revision += 1
        self.view.production_title = amendment.application.production.title
        self._event("amended", f"revision {self.view.revision}", amendment.actor)
        return AmendmentResult(revision=self.view.revision, kept=sorted({c.agency for c in self.view.clearances}))

    @amend.validator
    def _validate_amend(self, amendment: Amendment) -> None:
        self._not_final()
        if amendment.application.production.title == REFUSED_TITLE:
            raise invalid_request("the production title may not change after submission",
                                  [Problem(path="production.title", message="may not change")])

    @workflow.update(name=UPDATE_CANCEL)
    def cancel(self, request: CancelRequest) -> PermitStatusView:
        self.updates.append(f"{UPDATE_CANCEL}:{request.actor}")
        self.view.status = ApplicationStatus.withdrawn
        self._event("cancelled", request.reason, request.actor)
        return self.view

    @cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:
        self._not_final()

    @workflow.update(name=UPDATE_ANSWER)
    def answer_information(self, answer: InformationAnswer) -> PermitStatusView:
        self.updates.append(f"{UPDATE_ANSWER}:{answer.request_id}")
        for clearance in self.view.clearances:  # the request stays open, so the same one can be answered again
            if clearance.information_request_id == answer.request_id:
                self._event("information_answered", f"{clearance.agency}: request {answer.request_id}", answer.actor)
        return self.view

    @answer_information.validator
    def _validate_answer(self, answer: InformationAnswer) -> None:
        self._not_final()
        if all(c.information_request_id != answer.request_id for c in self.view.clearances):
            raise invalid_request("answer refused", [Problem(
                path="request_id", message=f"no open information request has the id {answer.request_id}")])

    @workflow.update(name=UPDATE_DECIDE)
    def decide(self, decision: OfficerDecision) -> PermitStatusView:
        self.updates.append(f"{UPDATE_DECIDE}:{decision.officer}")
        self._event("officer_decision", f"{decision.agency}: {decision.outcome.value}", decision.officer)
        return self.view

    @decide.validator
    def _validate_decide(self, decision: OfficerDecision) -> None:
        self._not_final()
        if decision.kind is not OfficerDecisionKind.expedite and \
                decision.agency not in {c.agency for c in self.view.clearances}:
            raise invalid_request("decision refused", [Problem(
                path="agency", message=f"{decision.agency} is not an agency of this application")])

    @workflow.signal(name="test_set_view")
    def set_view(self, view: PermitStatusView) -> None:
        self.view = view

    @workflow.signal(name="test_finish")
    def finish(self) -> None:
        self.finished = True


@workflow.defn(name=CLEARANCE_WORKFLOW)
class StandInClearanceWorkflow:
    @workflow.init
    def __init__(self) -> None:
        self.decisions: list[AgencyDecision] = []
        self.finished = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.finished)

    @workflow.signal(name=SIGNAL_AGENCY_DECISION)
    def agency_decision(self, decision: AgencyDecision) -> None:
        if all(seen.decision_id != decision.decision_id for seen in self.decisions):
            self.decisions.append(decision)

    @workflow.query(name="decisions")
    def recorded_decisions(self) -> list[AgencyDecision]:
        return self.decisions

    @workflow.signal(name="test_finish")
    def finish(self) -> None:
        self.finished = True


@workflow.defn(name=INCENTIVE_WORKFLOW)
class StandInIncentiveWorkflow:
    """Answers the status query with the view the real workflow starts from, or the one a test sets."""

    @workflow.init
    def __init__(self, input: IncentiveWorkflowInput) -> None:
        permit = input.permit
        own_permit = permit is not None and permit.organisation_id is not None \
            and permit.organisation_id == input.organisation_id
        self.view = IncentiveStatusView(
            id=input.incentive_id,
            programme=input.programme.code,
            programme_version=input.programme.version,
            status=IncentiveStatus.submitted,
            organisation_id=input.organisation_id,
            permit_id=input.application.permit_id,
            fiscal_year=input.application.fiscal_year,
            submitted_at=input.submitted_at,
            production_title=permit.production_title if own_permit and permit is not None else "",
        )
        self.finished = False

    @workflow.run
    async def run(self, input: IncentiveWorkflowInput) -> None:
        await workflow.wait_condition(lambda: self.finished)

    @workflow.query(name=QUERY_STATUS)
    def status(self) -> IncentiveStatusView:
        return self.view

    @workflow.signal(name="test_set_view")
    def set_view(self, view: IncentiveStatusView) -> None:
        self.view = view

    @workflow.signal(name="test_finish")
    def finish(self) -> None:
        self.finished = True

    def _event(self, event: str, actor: str) -> IncentiveStatusView:
        self.view.timeline.append(TimelineEvent(at=workflow.now(), event=event, actor=actor))
        return self.view

    def _open(self) -> None:
        if self.view.status.is_final:
            raise state_conflict(f"incentive {self.view.id} is already {self.view.status.value}")

    @workflow.update(name=UPDATE_CLAIM)
    def claim(self, submission: ClaimSubmission) -> IncentiveStatusView:
        return self._event("claim_submitted", submission.actor)

    @claim.validator
    def _validate_claim(self, submission: ClaimSubmission) -> None:
        self._open()

    @workflow.update(name=UPDATE_WITHDRAW)
    def withdraw(self, withdrawal: Withdrawal) -> IncentiveStatusView:
        return self._event("withdrawal_requested", withdrawal.actor)

    @withdraw.validator
    def _validate_withdraw(self, withdrawal: Withdrawal) -> None:
        self._open()

    @workflow.update(name=UPDATE_COMMITTEE)
    def committee_decide(self, decision: CommitteeDecision) -> IncentiveStatusView:
        return self._event(f"committee_{decision.outcome}", decision.officer)

    @committee_decide.validator
    def _validate_committee(self, decision: CommitteeDecision) -> None:
        self._open()

    @workflow.update(name=UPDATE_CLAWBACK)
    def clawback(self, order: ClawbackOrder) -> IncentiveStatusView:
        return self._event("clawed_back", order.officer)

    @clawback.validator
    def _validate_clawback(self, order: ClawbackOrder) -> None:
        self._open()


STAND_INS = [StandInPermitWorkflow, StandInClearanceWorkflow, StandInIncentiveWorkflow]
