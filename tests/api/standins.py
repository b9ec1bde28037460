"""Stand-ins for the permit and clearance workflows: same names, signals and query as the real ones, no logic.

They record what the API sends them, so API tests do not depend on the real workflows.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.contracts import PermitWorkflowInput
    from schemas.decisions import AgencyDecision, Payment
    from schemas.status import ApplicationStatus, PermitStatusView


@workflow.defn(name="PermitApplicationWorkflow")
class StandInPermitWorkflow:
    @workflow.init
    def __init__(self, input: PermitWorkflowInput) -> None:
        self.input = input
        self.view = PermitStatusView(
            id=input.application_id,
            status=ApplicationStatus.submitted,
            submitted_at=input.submitted_at,
            production_title=input.application.production.title,
            applicant_company=input.application.applicant.company,
        )
        self.payments: list[Payment] = []
        self.finished = False

    @workflow.run
    async def run(self, input: PermitWorkflowInput) -> None:
        await workflow.wait_condition(lambda: self.finished)

    @workflow.query(name="status")
    def status(self) -> PermitStatusView:
        return self.view

    @workflow.query(name="payments")
    def recorded_payments(self) -> list[Payment]:
        return self.payments

    @workflow.signal(name="payment_received")
    def payment_received(self, payment: Payment) -> None:
        self.payments.append(payment)

    @workflow.signal(name="test_set_view")
    def set_view(self, view: PermitStatusView) -> None:
        self.view = view

    @workflow.signal(name="test_finish")
    def finish(self) -> None:
        self.finished = True


@workflow.defn(name="AgencyClearanceWorkflow")
class StandInClearanceWorkflow:
    @workflow.init
    def __init__(self) -> None:
        self.decisions: list[AgencyDecision] = []
        self.finished = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.finished)

    @workflow.signal(name="agency_decision")
    def agency_decision(self, decision: AgencyDecision) -> None:
        if all(seen.decision_id != decision.decision_id for seen in self.decisions):
            self.decisions.append(decision)

    @workflow.query(name="decisions")
    def recorded_decisions(self) -> list[AgencyDecision]:
        return self.decisions

    @workflow.signal(name="test_finish")
    def finish(self) -> None:
        self.finished = True


STAND_INS = [StandInPermitWorkflow, StandInClearanceWorkflow]
