"""A production incentive (design §4): eligibility, money from a capped fund, tranches, audit, committee, clawback.

The workflow id is the incentive id; its `status` query answers `GET /v1/incentives/{id}`. `run` goes
through the lifecycle one `Phase` at a time. People act through updates with validators (`claim`,
`withdraw`, `committee_decide`, `clawback`); machines through signals: the linked permit's photography
and closure, the fund's promotions, the audit firm's decision, the first-feature call's result.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from temporalio import workflow
from temporalio.exceptions import is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from domain import incentives
    from schemas.contracts import (
        INCENTIVE_WORKFLOW,
        QUERY_STATUS,
        RECORD_INCENTIVE,
        SIGNAL_AUDIT_DECISION,
        SIGNAL_CALL_ENTRY,
        SIGNAL_CALL_RESULT,
        SIGNAL_FUND_PROMOTED,
        SIGNAL_INCENTIVE_LINKED,
        SIGNAL_PERMIT_EVENT,
        UPDATE_CLAIM,
        UPDATE_CLAWBACK,
        UPDATE_COMMITTEE,
        UPDATE_WITHDRAW,
        feature_call_workflow_id,
    )
    from schemas.incentive_api import AuditDecision
    from schemas.incentive_contracts import (
        CallEntry,
        CallResult,
        ClaimSubmission,
        ClawbackOrder,
        CommitteeDecision,
        FundPromotion,
        IncentiveLink,
        IncentiveProjectionInput,
        IncentiveWorkflowInput,
        PermitEvent,
        PermitEventKind,
        Withdrawal,
    )
    from schemas.incentives import IncentiveStatus, IncentiveStatusView, Programme, Vote
    from schemas.problems import Problem
    from workflows.incentive.record import Incentive
    from workflows.incentive.state import Closing, Phase
    from workflows.incentive.steps import Steps
    from workflows.lane import LocalLane
    from workflows.notifier import Notifier
    from workflows.projector import Projector
    from workflows.refusals import invalid_request, state_conflict

CLAIMS_OPEN = frozenset({IncentiveStatus.claim_due, IncentiveStatus.returned})
NOT_WITHDRAWABLE = frozenset({IncentiveStatus.paying, IncentiveStatus.clawback_window})


@workflow.defn(name=INCENTIVE_WORKFLOW)
class IncentiveApplicationWorkflow:
    """One incentive application, from submission to completion (or ineligible, rejected, withdrawn, lapsed, expired)."""

    @workflow.init
    def __init__(self, input: IncentiveWorkflowInput) -> None:
        self.incentive = Incentive(input)
        self.s = self.incentive.s
        self.lane = LocalLane()  # the notifier's and the projector's local activities, one at a time
        self.notifier = Notifier(input.incentive_id, input.organisation_id, input.webhook_url, self.lane)
        self.steps = Steps(self.incentive, self.notifier)
        self.projector = Projector(RECORD_INCENTIVE, lambda: self.s.version, self._projection, self.lane)

    # ---- machine events -------------------------------------------------------------------

    @workflow.signal(name=SIGNAL_PERMIT_EVENT)
    def permit_event(self, event: PermitEvent) -> None:
        """The linked permit's photography began or ended, or it closed; its latest shoot days come along."""
        s = self.s
        if event.shoot_dates:
            s.shoot_dates = list(event.shoot_dates)
        if event.kind == PermitEventKind.photography_started and s.photography_started_at is None:
            s.photography_started_at = event.at
            self.incentive.event("photography_started", f"permit {event.permit_id}")
        elif event.kind == PermitEventKind.photography_ended and s.photography_ended_at is None:
            s.photography_started_at = s.photography_started_at or event.at
            s.photography_ended_at = event.at
            self.incentive.event("photography_ended", f"permit {event.permit_id}")
        elif event.kind == PermitEventKind.permit_closed and s.permit_closed is None and not s.ended:
            s.permit_closed = event
            self.incentive.event("permit_closed", f"permit {event.permit_id} is {event.status}")

    @workflow.signal(name=SIGNAL_FUND_PROMOTED)
    def fund_promoted(self, promotion: FundPromotion) -> None:
        """A release made room in the fund: the ledger now holds money for this waiting application."""
        if promotion.incentive_id == self.s.incentive_id and self.s.promotion is None:
            self.s.promotion = promotion

    @workflow.signal(name=SIGNAL_AUDIT_DECISION)
    def audit_decision(self, decision: AuditDecision) -> None:
        """The audit firm's webhook; another round's key or a replayed decision_id changes nothing."""
        s = self.s
        if decision.request_key != self.steps.audit_key() or decision.decision_id in s.seen_decision_ids:
            workflow.logger.info("Ignoring audit decision %s", decision.decision_id)
            return
        s.seen_decision_ids.append(decision.decision_id)
        s.audit_decisions.append(decision)

    @workflow.signal(name=SIGNAL_CALL_RESULT)
    def call_result(self, result: CallResult) -> None:
        if self.s.call_result is None:
            self.s.call_result = result

    # ---- people's actions ----------------------------------------------------------------------

    @workflow.update(name=UPDATE_CLAIM)
    async def claim(self, submission: ClaimSubmission) -> IncentiveStatusView:
        """The applicant's audited claim, short report or milestone report."""
        self.s.claims.append(submission)
        what = submission.claim.milestone or ("claim" if submission.claim.lines else "report")
        self.incentive.event("claim_submitted", what, actor=submission.actor)
        return self.status()

    @claim.validator
    def _validate_claim(self, submission: ClaimSubmission) -> None:
        s = self.s
        if s.status not in CLAIMS_OPEN or s.claims:
            raise state_conflict(f"incentive {s.incentive_id} is {s.status.value}: no claim or report is due now"
                                 + ("; claims open once photography has ended" if s.phase is Phase.photography
                                    else ""))
        assert s.input.permit is not None
        permit = s.input.permit.model_copy(update={"shoot_dates": s.shoot_dates or s.input.permit.shoot_dates})
        found = incentives.claim_problems(s.input.programme, submission.claim, permit)
        milestone = self.steps.next_milestone()
        if milestone is not None and submission.claim.milestone not in (None, milestone):
            found.append(Problem(path="milestone", message=f"the next milestone is {milestone}"))
        if found:
            raise invalid_request(f"claim for {s.incentive_id} refused", found)

    @workflow.update(name=UPDATE_WITHDRAW)
    async def withdraw(self, withdrawal: Withdrawal) -> IncentiveStatusView:
        """The applicant withdraws: what is still reserved goes back to the fund."""
        self.s.withdrawal = withdrawal
        self.incentive.event("withdrawal_requested", withdrawal.reason, actor=withdrawal.actor)
        await workflow.wait_condition(lambda: self.s.phase is Phase.done)  # closed, and what it held released
        return self.status()

    @withdraw.validator
    def _validate_withdraw(self, withdrawal: Withdrawal) -> None:
        s = self.s
        if s.ended or s.withdrawal is not None:
            raise state_conflict(f"incentive {s.incentive_id} is already {s.status.value}")
        if s.status in NOT_WITHDRAWABLE:
            raise state_conflict(f"incentive {s.incentive_id} is {s.status.value}: money has been paid out, it can "
                                 "no longer be withdrawn")

    @workflow.update(name=UPDATE_COMMITTEE)
    async def committee_decide(self, decision: CommitteeDecision) -> IncentiveStatusView:
        """One committee member's vote on the audited claim."""
        self.s.committee.votes.append(Vote(officer=decision.officer, outcome=decision.outcome,
                                           reason=decision.reason, at=workflow.now()))
        self.incentive.event(f"committee_{decision.outcome}", decision.reason, actor=decision.officer)
        return self.status()

    @committee_decide.validator
    def _validate_committee(self, decision: CommitteeDecision) -> None:
        s = self.s
        if s.status != IncentiveStatus.committee:
            raise state_conflict(f"incentive {s.incentive_id} is {s.status.value}, not before the committee")
        if any(v.officer == decision.officer for v in s.committee.votes):
            raise state_conflict(f"{decision.officer} has already voted on this claim; another officer decides next")

    @workflow.update(name=UPDATE_CLAWBACK)
    async def clawback(self, order: ClawbackOrder) -> IncentiveStatusView:
        """An officer claws back part of what was paid, with a reason; the money goes back to the fund."""
        self.s.clawbacks_pending += 1
        try:
            await self.steps.money.claw_back(order.amount_idr, order.reason, actor=order.officer,
                                             step=f"clawback:{len(self.s.clawbacks)}")
        finally:
            self.s.clawbacks_pending -= 1
        self.s.clawbacks.append(order)
        return self.status()

    @clawback.validator
    def _validate_clawback(self, order: ClawbackOrder) -> None:
        s = self.s
        if s.status != IncentiveStatus.clawback_window:
            raise state_conflict(f"incentive {s.incentive_id} is {s.status.value}: clawback is possible only in "
                                 "its clawback window, after the final payment")
        if s.clawbacks_pending:
            raise state_conflict(f"incentive {s.incentive_id}: a clawback is being recorded; try again shortly")
        left = s.paid_idr - s.clawed_back_idr
        if order.amount_idr > left:
            raise invalid_request(f"clawback of {s.incentive_id} refused", [Problem(
                path="amount_idr", message=f"{order.amount_idr} IDR is more than the {left} IDR paid and not yet "
                                           "clawed back")])

    @workflow.query(name=QUERY_STATUS)
    def status(self) -> IncentiveStatusView:
        return self.incentive.status()

    # ---- the lifecycle -----------------------------------------------------------------------

    @workflow.run
    async def run(self, input: IncentiveWorkflowInput) -> IncentiveStatusView:
        s, steps = self.s, self.steps
        table: dict[Phase, Callable[[], Awaitable[Phase]]] = {
            Phase.assess: self._assess, Phase.call: self._await_call, Phase.reserve: steps.reserve,
            Phase.waiting: steps.await_room, Phase.interim: steps.interim, Phase.photography: steps.photography,
            Phase.claim: steps.claim, Phase.audit: steps.audit, Phase.committee: steps.committee,
            Phase.settle: steps.settle, Phase.final: steps.final, Phase.clawback_window: steps.clawback_window,
            Phase.closing: steps.close,
        }
        self.projector.start()
        self.incentive.event("submitted", f"{input.application.programme.value}, permit {input.application.permit_id}")
        try:
            while s.phase is not Phase.done:
                s.phase = await table[s.phase]()
        except BaseException as err:
            if is_cancelled_exception(err) and workflow.cancellation_reason() is not None:  # cancelled from outside
                if s.phase is not Phase.done:
                    s.closing = s.closing or Closing(status=IncentiveStatus.withdrawn, reason="cancelled by an operator")
                    s.phase = await steps.close()
                await workflow.wait_condition(lambda: self.notifier.idle() and self.projector.caught_up())
            raise
        await workflow.wait_condition(
            lambda: workflow.all_handlers_finished() and self.notifier.idle() and self.projector.caught_up())
        return self.status()

    async def _assess(self) -> Phase:
        """Every eligibility rule, checked and reported; the estimate; then the permit is told of the incentive."""
        s, inp = self.s, self.s.input
        s.eligibility = incentives.eligibility(inp.programme, inp.application, inp.permit, inp.organisation_id,
                                               inp.submitted_at)
        failed = [c.rule for c in s.eligibility if not c.ok]
        if failed:  # the applicant is told as the incentive closes
            return self.incentive.closing(IncentiveStatus.ineligible, "failed: " + ", ".join(failed))
        estimate = incentives.estimate(inp.programme, inp.application, inp.permit, inp.submitted_at)
        s.rate, s.estimated_idr = estimate.rate, estimate.amount_idr
        self.incentive.event("estimated", estimate.detail)
        await self._link_permit()
        return Phase.call if inp.programme.code == Programme.first_feature_fund else Phase.reserve

    async def _link_permit(self) -> None:
        """Ask the permit to tell this incentive of its photography and its end (at once, if they happened)."""
        s = self.s
        try:
            await workflow.get_external_workflow_handle(s.input.application.permit_id).signal(
                SIGNAL_INCENTIVE_LINKED, IncentiveLink(incentive_id=s.incentive_id))
        except Exception:  # noqa: BLE001 — the permit's workflow has ended: it was completed (eligibility checked)
            s.photography_started_at = s.photography_started_at or workflow.now()
            s.photography_ended_at = s.photography_ended_at or workflow.now()
            self.incentive.event("photography_ended", f"permit {s.input.application.permit_id} was completed")

    async def _await_call(self) -> Phase:
        """First-feature fund: enter the call; at its deadline the panel ranks, and grants go in rank order."""
        s, inp = self.s, self.s.input
        project = inp.application.project
        assert project is not None and project.call_id is not None and project.requested_grant_idr is not None
        s.holds_money = True  # the call may reserve a grant for it: closing releases whatever it holds
        try:
            await workflow.get_external_workflow_handle(feature_call_workflow_id(project.call_id)).signal(
                SIGNAL_CALL_ENTRY, CallEntry(incentive_id=s.incentive_id, requested_grant_idr=project.requested_grant_idr,
                                             submitted_at=inp.submitted_at,
                                             production_title=inp.permit.production_title if inp.permit else ""))
        except Exception:  # noqa: BLE001 — the call has closed
            return self.incentive.closing(IncentiveStatus.rejected, f"the call {project.call_id} is closed")
        self.incentive.event("entered_call", project.call_id)
        await workflow.wait_condition(lambda: s.call_result is not None or self.incentive.interrupted())
        if s.call_result is None:
            return self.incentive.after_interrupt()
        result = s.call_result
        if not result.awarded:
            return self.incentive.closing(IncentiveStatus.rejected, result.reason)
        s.reserved_idr = result.reserved_idr
        self.incentive.event("awarded", result.reason)
        self.incentive.set_status(IncentiveStatus.reserved, f"{result.reserved_idr} IDR")
        return Phase.interim

    def _projection(self, version: int) -> IncentiveProjectionInput:
        return IncentiveProjectionInput(workflow_id=workflow.info().workflow_id, seq=version, view=self.status())
