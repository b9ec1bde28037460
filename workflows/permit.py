"""A filming permit application (design §3): intake, one clearance per agency, payment, issue, completion.

The workflow id is the application id. Its `status` query is the answer of `GET /v1/permits/{id}`.
Every state change bumps `seq`; a background projector sends the latest status view with its seq
to the read model (`record_application`), retrying through database outages without holding up
the application, which waits for it only before it completes.
Search attributes `ApplicationStatus` and `NextDeadline` are kept current when the starter set
`ApplicationStatus` at start (servers without them registered just skip the upserts).

People act through updates, each with a validator that refuses bad input before it enters history:
`cancel` (the applicant withdraws; open requests are withdrawn at their agencies), `amend` (a new
revision; only the agencies whose inputs changed are asked again), `answer_information` and `decide`
(expedite, an open clearance, a rejection to confirm, an override). The older signals still work.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from datetime import timedelta

from temporalio import workflow
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import ActivityError, ApplicationError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, Field

    from schemas.contracts import (
        COMPUTE_BUSINESS_DEADLINE,
        ISSUE_PERMIT_DOCUMENT,
        PLAN_APPLICATION,
        RECORD_APPLICATION,
        SEARCH_ATTR_NEXT_DEADLINE,
        SEARCH_ATTR_STATUS,
        UPDATE_AMEND,
        UPDATE_ANSWER,
        UPDATE_CANCEL,
        UPDATE_DECIDE,
        ApplicationPlan,
        BusinessDeadlineInput,
        ClearanceResult,
        ClearanceWorkflowInput,
        IssueDocumentInput,
        IssueDocumentResult,
        Notification,
        PermitWorkflowInput,
        PlanInput,
        ProjectionInput,
        RoutedAgency,
        clearance_workflow_id,
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
    from schemas.status import (
        ApplicationStatus,
        ClearanceStatus,
        ClearanceView,
        Fees,
        PermitInfo,
        PermitStatusView,
        TimelineEvent,
        location_views,
    )
    from workflows import rules
    from workflows.notifications import send_notification
    from workflows.policies import (
        DOCUMENT_TIMEOUT,
        PROJECTION_RETRY,
        PROJECTION_TIMEOUT,
        PURE_RETRY,
        PURE_TIMEOUT,
    )

CLEARANCE_WORKFLOW = "AgencyClearanceWorkflow"
REVISION = 1  # the first revision; each accepted amendment adds one
# Runs started before the read model existed replay without projections (their histories have no marker).
PROJECTION_PATCH = "read-model-projection"
# Runs started before rejections needed an officer's confirmation reject the application at once.
REJECTION_CONFIRMATION_PATCH = "rejection-confirmation"
BACKGROUND_NOTIFY_PATCH = "applicant-notifications-in-background"
ENDED = frozenset({ApplicationStatus.rejected, ApplicationStatus.withdrawn, ApplicationStatus.lapsed,
                   ApplicationStatus.completed})
ACTIVE = (ApplicationStatus.in_review, ApplicationStatus.awaiting_information, ApplicationStatus.officer_review)
OVERRIDABLE = frozenset({ClearanceStatus.approved, ClearanceStatus.approved_with_conditions, ClearanceStatus.rejected,
                         ClearanceStatus.deemed_approved})
DECISION_WAIT = timedelta(seconds=30)  # how long a `decide` update waits for the clearance to take the decision

STATUS_KEY = SearchAttributeKey.for_keyword(SEARCH_ATTR_STATUS)
DEADLINE_KEY = SearchAttributeKey.for_datetime(SEARCH_ATTR_NEXT_DEADLINE)



class PermitState(BaseModel):
    """Everything the permit workflow knows."""

    input: PermitWorkflowInput
    status: ApplicationStatus = ApplicationStatus.submitted
    plan: ApplicationPlan | None = None
    clearances: list[ClearanceView] = Field(default_factory=list)
    fees: Fees | None = None
    permit: PermitInfo | None = None
    timeline: list[TimelineEvent] = Field(default_factory=list)
    expedite: OfficerDecision | None = None
    awaiting_expedite: bool = False
    payment_deadline: dt.datetime | None = None
    pending_payments: list[Payment] = Field(default_factory=list)
    seen_payment_ids: list[str] = Field(default_factory=list)
    started: list[str] = Field(default_factory=list, description="Clearance workflow ids started (or decided here)")
    closed: list[str] = Field(default_factory=list, description="Clearance workflow ids that have closed")
    cancelled_children: list[str] = Field(default_factory=list, description="Clearance workflow ids asked to cancel")
    revision: int = REVISION
    review_started: bool = False
    review_needed: bool = Field(default=False, description="An amendment or override: back to the clearances")
    amending: bool = False
    cancel_request: CancelRequest | None = None
    to_confirm: list[str] = Field(default_factory=list, description="Agencies whose rejection waits for an officer")
    confirmed_rejections: list[str] = Field(default_factory=list, description="Agencies whose rejection is final")
    paid_idr: int = Field(default=0, description="What the applicant has paid so far")
    ended: bool = Field(default=False, description="The application was closed (its clearances withdrawn)")
    changed: bool = False
    search_attributes: bool = False
    sa_status: str | None = None
    sa_deadline: dt.datetime | None = None
    seq: int = Field(default=0, description="Event sequence: bumped by every change of the status view")
    projected_seq: int = Field(default=0, description="The last seq the read model has taken")
    projecting: bool = False


def state_conflict(message: str) -> ApplicationError:
    """An update refused because of the application's state (the API answers 409, not 422)."""
    return ApplicationError(message, type="StateConflict", non_retryable=True)


@workflow.defn(name="PermitApplicationWorkflow")
class PermitApplicationWorkflow:
    """One permit application from submission to completion (or rejection, withdrawal, lapse)."""

    @workflow.init
    def __init__(self, input: PermitWorkflowInput) -> None:
        self.s = PermitState(
            input=input,
            search_attributes=any(p.key.name == SEARCH_ATTR_STATUS for p in workflow.info().typed_search_attributes),
        )
        self._children: dict[str, workflow.ChildWorkflowHandle] = {}  # by clearance workflow id, every revision
        self._tasks: list[asyncio.Task[None]] = []  # keeps the clearance runners and the projector referenced
        self._notifying = 0  # applicant notifications still being sent in the background

    # ---- messages -----------------------------------------------------------------

    @workflow.signal(name="clearance_changed")
    def clearance_changed(self, view: ClearanceView) -> None:
        """A clearance workflow's new view of itself (views of a superseded revision are ignored)."""
        old = self._view(view.agency)
        if old is None or view.revision != old.revision:
            workflow.logger.warning("Ignoring a view of agency %s revision %s", view.agency, view.revision)
            return
        if old.status.is_final and not view.status.is_final:
            return  # stale
        self._put_view(view)

    @workflow.signal(name="officer_decision")
    async def officer_decision(self, decision: OfficerDecision) -> None:
        """Expedite decisions are ours; clearance decisions go to that agency's clearance workflow."""
        s = self.s
        if decision.kind == OfficerDecisionKind.expedite:
            if s.awaiting_expedite and s.expedite is None:
                s.expedite = decision
            else:
                self._event("officer_decision_ignored", "no expedite request is waiting")
            return
        view = self._view(decision.agency or "")
        if view is None:
            self._event("officer_decision_ignored", f"{decision.agency}: not an agency of this application")
            return
        if decision.kind == OfficerDecisionKind.clearance and view.agency in s.to_confirm:
            self._settle_rejection(view, decision)
            return
        await self._decide_clearance(view, decision)

    @workflow.signal(name="payment_received")
    def payment_received(self, payment: Payment) -> None:
        """The payment provider's webhook; each payment_id counts once."""
        s = self.s
        if payment.payment_id in s.seen_payment_ids:
            return
        s.seen_payment_ids.append(payment.payment_id)
        if s.fees is not None and s.fees.paid_at is not None:
            self._event("payment_extra", f"payment {payment.payment_id} of {payment.amount_idr} IDR after the fees were paid")
            return
        s.pending_payments.append(payment)
        s.changed = True

    @workflow.signal(name="information_answered")
    async def information_answered(self, answer: InformationAnswer) -> None:
        """The applicant's answer: forwarded to the clearance that asked."""
        s = self.s
        for v in s.clearances:
            cid = self._child_id(v)
            if v.information_request_id == answer.request_id and cid in self._children and cid not in s.closed:
                self._event("information_answered", f"{v.agency}: request {answer.request_id}")
                try:
                    await self._children[cid].signal("information_answered", answer)
                except Exception:  # noqa: BLE001
                    self._event("information_answer_unmatched", f"request {answer.request_id}: the clearance has closed")
                return
        self._event("information_answer_unmatched", f"request {answer.request_id}: no open request has this id")

    # ---- updates (validated before they enter history) ------------------------------

    @workflow.update(name=UPDATE_CANCEL)
    async def cancel(self, request: CancelRequest) -> PermitStatusView:
        """The applicant cancels: the application is withdrawn at once; open requests are withdrawn at their agencies."""
        s = self.s
        s.cancel_request = request
        self._event("cancelled", f"by {request.actor}: {request.reason}")
        self._set_status(ApplicationStatus.withdrawn, request.reason)
        s.changed = True
        return self.status()

    @cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:
        s = self.s
        if s.cancel_request is not None:
            raise state_conflict(f"application {s.input.application_id} is already cancelled")
        if s.status in ENDED:
            raise state_conflict(
                f"application {s.input.application_id} is already {s.status.value}: there is nothing left to cancel"
            )

    @workflow.update(name=UPDATE_AMEND)
    async def amend(self, amendment: Amendment) -> AmendmentResult:
        """A new revision: re-plan, ask again only the agencies whose inputs changed, keep the other decisions."""
        s = self.s
        s.amending = True
        try:
            return await self._amend(amendment)
        finally:
            s.amending = False
            s.changed = True

    @amend.validator
    def _validate_amend(self, amendment: Amendment) -> None:
        s = self.s
        app_id = s.input.application_id
        if s.cancel_request is not None or s.status in ENDED:
            raise state_conflict(f"application {app_id} is {s.status.value}: it can no longer be amended")
        if s.amending:
            raise state_conflict(f"application {app_id}: an earlier amendment is still being applied; try again shortly")
        if s.plan is None or not s.review_started:
            raise state_conflict(
                f"application {app_id} is still in intake{' (an expedite request waits for an officer)' if s.awaiting_expedite else ''}; "
                "amend it once its clearances are under way"
            )
        problems = rules.amendment_problems(s.input.application, amendment.application, rules.jakarta_today(workflow.now()))
        if problems:
            raise ValueError(f"amendment of {app_id} refused: " + "; ".join(problems))

    @workflow.update(name=UPDATE_ANSWER)
    async def answer_information(self, answer: InformationAnswer) -> PermitStatusView:
        """The applicant answers an open information request: forwarded to the clearance that asked."""
        await self.information_answered(answer)
        return self.status()

    @answer_information.validator
    def _validate_answer(self, answer: InformationAnswer) -> None:
        s = self.s
        if s.status in ENDED:
            raise state_conflict(f"application {s.input.application_id} is {s.status.value}: no information request is open")
        open_ids = [
            v.information_request_id for v in s.clearances
            if v.status == ClearanceStatus.information_required and v.information_request_id
            and self._child_id(v) in self._children and self._child_id(v) not in s.closed
        ]
        if answer.request_id not in open_ids:
            which = ", ".join(open_ids) if open_ids else "none"
            raise ValueError(
                f"request_id: {answer.request_id!r} is not an open information request of application "
                f"{s.input.application_id} (open: {which})"
            )

    @workflow.update(name=UPDATE_DECIDE)
    async def decide(self, decision: OfficerDecision) -> PermitStatusView:
        """An officer decides: an expedite, an open clearance, a rejection to confirm, or overrides a final outcome."""
        s = self.s
        if decision.kind == OfficerDecisionKind.expedite:
            s.expedite = decision
            await workflow.wait_condition(lambda: not s.awaiting_expedite)
            return self.status()
        view = self._view(decision.agency or "")
        assert view is not None  # the validator checked
        if decision.kind == OfficerDecisionKind.override:
            self._override(view, decision)
        elif view.agency in s.to_confirm:
            self._settle_rejection(view, decision)
        else:
            seq = s.seq
            await self._decide_clearance(view, decision)
            try:  # the clearance workflow takes it and tells us: answer with its new view when it has
                await workflow.wait_condition(
                    lambda: self._changed_since(view, seq), timeout=DECISION_WAIT, timeout_summary="officer-decision"
                )
            except asyncio.TimeoutError:
                pass
        if decision.outcome == Outcome.rejected:  # the application closes: answer when it has
            await workflow.wait_condition(lambda: s.status in ENDED)
        return self.status()

    @decide.validator
    def _validate_decide(self, decision: OfficerDecision) -> None:
        s = self.s
        app_id = s.input.application_id
        if s.status in ENDED or s.cancel_request is not None:
            raise state_conflict(f"application {app_id} is {s.status.value}: there is nothing left to decide")
        if decision.kind == OfficerDecisionKind.expedite:
            if not s.awaiting_expedite or s.expedite is not None:
                raise ValueError(f"kind: application {app_id} has no expedite request waiting for a decision")
            if decision.outcome == Outcome.information_required:
                raise ValueError("outcome: an expedite request is granted (approved) or refused (rejected), not questioned")
            return
        if not decision.agency:
            raise ValueError(f"agency: a {decision.kind.value} decision names the agency whose clearance it decides")
        view = self._view(decision.agency)
        if view is None:
            agencies = ", ".join(v.agency for v in s.clearances) or "none yet"
            raise ValueError(f"agency: {decision.agency!r} is not an agency of application {app_id} (its agencies: {agencies})")
        where = f"{decision.agency} clearance of {app_id}"
        if decision.kind == OfficerDecisionKind.override:
            if view.status not in OVERRIDABLE or view.agency in s.to_confirm:
                raise ValueError(
                    f"kind: the {where} is {view.status.value}{' (a rejection to confirm: decide it with kind clearance)' if view.agency in s.to_confirm else ''}; "
                    "only a final outcome (approved, approved_with_conditions, rejected, deemed_approved) can be overridden"
                )
            if decision.outcome == Outcome.information_required:
                raise ValueError("outcome: an override is approved, approved_with_conditions or rejected")
            if view.status.value == decision.outcome.value:
                raise ValueError(f"outcome: the {where} is already {view.status.value}")
            return
        if view.agency in s.to_confirm:
            if decision.outcome == Outcome.information_required:
                raise ValueError(
                    f"outcome: the {where} is a rejection to confirm: confirm it (rejected) or override it "
                    "(approved, approved_with_conditions)"
                )
            return
        if view.status.is_final:
            raise ValueError(f"agency: the {where} is already {view.status.value}; use kind override to change a final outcome")
        if decision.outcome == Outcome.information_required and view.status == ClearanceStatus.information_required:
            raise ValueError(
                f"outcome: the {where} already waits on the applicant (request {view.information_request_id})"
            )

    @workflow.query(name="status")
    def status(self) -> PermitStatusView:
        s = self.s
        app = s.input.application
        return PermitStatusView(
            id=s.input.application_id,
            status=s.status,
            organisation_id=s.input.organisation_id,
            revision=s.revision,
            awaiting_expedite=s.awaiting_expedite,
            rule_set=s.plan.rule_set if s.plan else None,
            submitted_at=s.input.submitted_at,
            production_title=app.production.title,
            applicant_company=app.applicant.company,
            locations=location_views(app.locations),
            clearances=s.clearances,
            fees=s.fees,
            permit=s.permit,
            timeline=s.timeline,
            next_deadline=self._next_deadline(),
            earliest_feasible_start=s.plan.earliest_feasible_start if s.plan else None,
        )

    # ---- run ----------------------------------------------------------------------

    @workflow.run
    async def run(self, input: PermitWorkflowInput) -> PermitStatusView:
        s = self.s
        if workflow.patched(PROJECTION_PATCH):
            s.projecting = True
            self._tasks.append(asyncio.create_task(self._project()))
        self._event("submitted", "")
        try:
            if await self._intake():
                # Clearances, payment (of what is due), issue, completion; an amendment or override goes round again.
                while await self._review():
                    paid = await self._collect_payment()
                    if paid is None:
                        continue
                    if not paid or not await self._issue():
                        break
                    done = await self._complete()
                    if done is not None:
                        break
            if s.cancel_request is not None and not s.ended:
                await self._close(ApplicationStatus.withdrawn, s.cancel_request.reason)
        except BaseException as err:
            if is_cancelled_exception(err) and workflow.cancellation_reason() is not None:
                await self._close(ApplicationStatus.withdrawn, "the application was cancelled")
                await workflow.wait_condition(self._projected)
            raise
        await workflow.wait_condition(
            lambda: workflow.all_handlers_finished() and self._notifying == 0 and self._projected()
        )
        workflow.logger.info("Application %s ended %s", s.input.application_id, s.status.value)
        return self.status()

    # ---- read model ---------------------------------------------------------------

    async def _project(self) -> None:
        """Send the latest status view to the read model whenever seq moved; states in between coalesce.

        Runs beside the application and is never awaited by it: a database outage only delays
        the read model (the activity retries without limit), never the application.
        """
        s = self.s
        while True:
            await workflow.wait_condition(lambda: s.seq > s.projected_seq)
            seq = s.seq
            try:
                await workflow.execute_activity(
                    RECORD_APPLICATION,
                    ProjectionInput(workflow_id=workflow.info().workflow_id, seq=seq, view=self.status()),
                    result_type=bool,
                    start_to_close_timeout=PROJECTION_TIMEOUT,
                    retry_policy=PROJECTION_RETRY,
                    summary=f"seq {seq}",
                )
            except ActivityError as err:
                if is_cancelled_exception(err):
                    raise
                # Only a non-retryable failure gets here (the policy retries everything else): try again later.
                workflow.logger.error("Projection of seq %s failed: %s; trying again", seq, err.cause or err)
                await workflow.sleep(PROJECTION_RETRY.maximum_interval or timedelta(minutes=1), summary="projection")
                continue
            s.projected_seq = max(s.projected_seq, seq)

    def _projected(self) -> bool:
        """Whether the read model holds the latest state (always, for runs from before projections)."""
        return not self.s.projecting or self.s.projected_seq >= self.s.seq

    async def _intake(self) -> bool:
        """Plan the application; a too-short lead time needs an officer's expedite, or it is rejected."""
        s = self.s
        self._set_status(ApplicationStatus.intake, "")
        plan = await workflow.execute_activity(
            PLAN_APPLICATION,
            PlanInput(application=s.input.application, submitted_at=s.input.submitted_at),
            result_type=ApplicationPlan,
            start_to_close_timeout=PURE_TIMEOUT,
            retry_policy=PURE_RETRY,
        )
        if s.cancel_request is not None:
            return False
        s.plan, s.fees = plan, plan.fees
        codes = ", ".join(r.agency.code.value for r in plan.agencies) or "none"
        self._event(
            "planned",
            f"rule set {plan.rule_set}; agencies: {codes}; lead time {plan.lead_time_business_days} business days",
        )
        if plan.lead_time_ok:
            return True
        first = s.input.application.first_shoot_date
        why = f"lead time too short: first shoot day {first}, earliest feasible start {plan.earliest_feasible_start}"
        if not s.input.application.expedite.requested:
            self._set_status(ApplicationStatus.rejected, why)
            await self._notify("application_rejected", "applicant", why)
            return False
        s.awaiting_expedite = True
        self._set_status(ApplicationStatus.officer_review, f"expedite requested; {why}")
        await self._notify("expedite_requested", "officer", why)
        while True:
            await workflow.wait_condition(lambda: s.expedite is not None or s.cancel_request is not None)
            if s.cancel_request is not None:
                s.awaiting_expedite = False
                return False
            assert s.expedite is not None
            decision = s.expedite
            if decision.outcome != Outcome.information_required:
                break
            self._event("officer_decision_ignored", "an expedite is granted or refused, not questioned")
            s.expedite = None
        s.awaiting_expedite = False
        if decision.outcome == Outcome.rejected:
            self._set_status(ApplicationStatus.rejected, f"expedite refused: {decision.reason}")
            await self._notify("application_rejected", "applicant", "expedite refused")
            return False
        self._event("expedite_granted", f"{decision.reason} (officer {decision.officer})")
        return True

    async def _review(self) -> bool:
        """Run the clearances: independent ones at once, dependent ones once their dependencies approve.

        True once every clearance is approved; False when the application ended here (rejected,
        lapsed) or was cancelled. Comes back here after an amendment or an override.
        """
        s = self.s
        assert s.plan is not None
        if not s.review_started:
            s.review_started = True
            self._touch()
            s.clearances = [self._new_view(r, REVISION) for r in s.plan.agencies]
            self._set_status(ApplicationStatus.in_review, "")
        while True:
            s.changed = False
            s.review_needed = False
            if s.cancel_request is not None:
                return False
            self._start_ready()
            views = s.clearances
            rejected = [v for v in views if v.status == ClearanceStatus.rejected]
            if rejected:
                confirmed = [v for v in rejected if v.agency in s.confirmed_rejections]
                if confirmed or not workflow.patched(REJECTION_CONFIRMATION_PATCH):
                    reason = "; ".join(f"{v.agency}: {v.reason or 'rejected'}" for v in (confirmed or rejected))
                    await self._close(ApplicationStatus.rejected, reason)
                    return False
                for v in rejected:
                    if v.agency not in s.to_confirm:  # an agency's rejection: an officer confirms or overrides it
                        s.to_confirm.append(v.agency)
                        self._put_view(v.model_copy(update={
                            "needs_officer": True, "reason": f"rejection to confirm: {v.reason or 'rejected'}",
                        }))
                        await self._notify("rejection_to_confirm", "officer", f"{v.agency}: {v.reason or 'rejected'}",
                                           agency=v.agency)
            lapsed = [v for v in views if v.status == ClearanceStatus.information_required and self._child_id(v) in s.closed]
            if lapsed:
                await self._close(ApplicationStatus.lapsed, "; ".join(f"{v.agency}: {v.reason}" for v in lapsed))
                return False
            if all(v.status.is_approval for v in s.clearances) and not s.amending:
                return True
            if any(v.status == ClearanceStatus.withdrawn for v in views):
                # Only an outside cancellation of one clearance gets here; the officer decides it instead.
                for v in views:
                    if v.status == ClearanceStatus.withdrawn and not v.needs_officer:
                        v.needs_officer = True
                        self._event("officer_needed", f"{v.agency}: the clearance was withdrawn outside the application")
            self._set_status(ApplicationStatus.amended if s.permit is not None else rules.review_status(s.clearances), "")
            self._sync_search_attributes()
            await workflow.wait_condition(lambda: s.changed)

    def _new_view(self, routed: RoutedAgency, revision: int) -> ClearanceView:
        return ClearanceView(
            agency=routed.agency.code.value,
            revision=revision,
            status=ClearanceStatus.waiting_on_dependency if routed.depends_on else ClearanceStatus.submitting,
            depends_on=list(routed.depends_on),
        )

    def _child_id(self, view: ClearanceView) -> str:
        return clearance_workflow_id(self.s.input.application_id, view.agency, view.revision)

    def _start_ready(self) -> None:
        s = self.s
        assert s.plan is not None
        for routed in s.plan.agencies:
            code = routed.agency.code.value
            view = self._view(code)
            assert view is not None
            if self._child_id(view) in s.started or view.status.is_final:
                continue
            if view.status == ClearanceStatus.waiting_on_dependency and not rules.dependencies_met(view, s.clearances):
                continue
            s.started.append(self._child_id(view))
            if view.status == ClearanceStatus.waiting_on_dependency:
                self._put_view(view.model_copy(update={"status": ClearanceStatus.submitting}))
            self._tasks.append(asyncio.create_task(self._run_clearance(routed, view.revision)))

    async def _run_clearance(self, routed: RoutedAgency, revision: int) -> None:
        """Start one clearance workflow (one agency, one revision) and record how it ends."""
        s = self.s
        code = routed.agency.code.value
        child_id = clearance_workflow_id(s.input.application_id, code, revision)
        assert s.plan is not None
        try:
            handle = await workflow.start_child_workflow(
                CLEARANCE_WORKFLOW,
                ClearanceWorkflowInput(
                    application_id=s.input.application_id,
                    agency=routed.agency,
                    revision=revision,
                    request=rules.build_clearance_request(s.input, routed, revision, child_id),
                    information_reply_business_days=s.plan.information_reply_business_days,
                    parent_workflow_id=workflow.info().workflow_id,
                    organisation_id=s.input.organisation_id,
                    applicant_webhook_url=s.input.application.applicant.webhook_url,
                ),
                id=child_id,
                result_type=ClearanceResult,
                parent_close_policy=workflow.ParentClosePolicy.REQUEST_CANCEL,
            )
        except Exception as err:  # noqa: BLE001 — e.g. the id is taken; an officer decides instead
            self._child_failed(child_id, code, revision, f"the clearance could not start: {err}")
            return
        self._children[child_id] = handle
        self._event("clearance_started", code if revision == REVISION else f"{code} (revision {revision})")
        if child_id in s.cancelled_children:  # superseded while it started
            handle.cancel()
        try:
            result = await handle
        except (Exception, asyncio.CancelledError) as err:
            current = self._view(code)
            if current is None or current.revision != revision:
                pass  # a superseded revision: its withdrawal is not the application's news
            elif is_cancelled_exception(err):
                if not current.status.is_final:
                    self._put_view(current.model_copy(update={"status": ClearanceStatus.withdrawn}))
            else:
                self._child_failed(child_id, code, revision, f"the clearance workflow failed: {getattr(err, 'cause', None) or err}")
        else:
            current = self._view(code)
            if current is not None and current.revision == revision:
                self._put_view(result.view)
        finally:
            if child_id not in s.closed:
                s.closed.append(child_id)
            s.changed = True

    def _child_failed(self, child_id: str, code: str, revision: int, reason: str) -> None:
        view = self._view(code)
        if view is not None and view.revision == revision and not view.status.is_final:
            self._put_view(view.model_copy(update={"needs_officer": True, "reason": reason}))
        if child_id not in self.s.closed:
            self.s.closed.append(child_id)
        self.s.changed = True

    async def _decide_clearance(self, view: ClearanceView, decision: OfficerDecision) -> None:
        """An officer decides an open clearance: its workflow takes the decision, or we decide here if it has none."""
        s = self.s
        code, cid = view.agency, self._child_id(view)
        self._event("officer_decision", f"{code}: {decision.outcome.value} by {decision.officer}")
        if decision.outcome == Outcome.rejected and code not in s.confirmed_rejections:
            s.confirmed_rejections.append(code)  # an officer's own rejection needs no confirmation
        if cid in s.started and cid not in s.closed:
            await workflow.wait_condition(lambda: cid in self._children or cid in s.closed)
        handle = self._children.get(cid)
        if handle is not None and cid not in s.closed:
            try:
                await handle.signal("officer_decision", decision)
                return
            except Exception:  # noqa: BLE001 — it closed meanwhile: decide here
                workflow.logger.info("Clearance %s closed before the officer decision arrived", code)
        self._officer_decides_here(view, decision)

    def _changed_since(self, view: ClearanceView, seq: int) -> bool:
        current = self._view(view.agency)
        return current is None or current != view or self.s.status in ENDED

    def _officer_decides_here(self, view: ClearanceView, decision: OfficerDecision) -> None:
        """An officer decision for a clearance that has no running workflow (never started, or ended abnormally)."""
        active = (*ACTIVE, ApplicationStatus.amended)
        if view.status.is_final or decision.outcome == Outcome.information_required or self.s.status not in active:
            self._event("officer_decision_ignored", f"{view.agency}: no open clearance to decide")
            return
        now = workflow.now()
        cid = self._child_id(view)
        if cid not in self.s.started:
            self.s.started.append(cid)  # decided without asking the agency
            self.s.closed.append(cid)
        decided = view.model_copy(
            update={
                "status": ClearanceStatus(decision.outcome.value),
                "decided_at": now,
                "conditions": list(decision.conditions),
                "reason": f"{decision.reason} (officer {decision.officer})",
                "needs_officer": False,
                "sla": rules.sla_at_decision(now, view.due_at),
            }
        )
        decided.breached_at = rules.breached_at(decided, now)
        self._put_view(decided)

    def _settle_rejection(self, view: ClearanceView, decision: OfficerDecision) -> None:
        """A rejection to confirm: the officer confirms it (rejected) or overrides it with an approval."""
        s = self.s
        code = view.agency
        s.to_confirm.remove(code)
        agency_reason = (view.reason or "").removeprefix("rejection to confirm: ")
        if decision.outcome == Outcome.rejected:
            s.confirmed_rejections.append(code)
            self._event("rejection_confirmed", f"{code}: {decision.reason} (officer {decision.officer})")
            self._put_view(view.model_copy(update={
                "needs_officer": False,
                "reason": f"{agency_reason}; confirmed by officer {decision.officer}: {decision.reason}",
            }))
            return
        if decision.outcome == Outcome.information_required:  # the validator refuses it; a signal may still bring it
            s.to_confirm.append(code)
            self._event("officer_decision_ignored", f"{code}: a rejection to confirm is confirmed or overridden")
            return
        self._apply_override(view, decision, f"agency rejected: {agency_reason}")

    def _override(self, view: ClearanceView, decision: OfficerDecision) -> None:
        """Kind override: the officer's outcome replaces a final one (recorded with the reason and the officer)."""
        if decision.outcome == Outcome.rejected and view.agency not in self.s.confirmed_rejections:
            self.s.confirmed_rejections.append(view.agency)
        self._apply_override(view, decision, f"was {view.status.value}" + (f": {view.reason}" if view.reason else ""))

    def _apply_override(self, view: ClearanceView, decision: OfficerDecision, before: str) -> None:
        s = self.s
        outcome = ClearanceStatus(decision.outcome.value)
        self._event(
            "officer_override",
            f"{view.agency}: {view.status.value} -> {outcome.value} by officer {decision.officer}: {decision.reason}",
        )
        self._put_view(view.model_copy(update={
            "status": outcome,
            "conditions": list(decision.conditions),
            "reason": f"officer override by {decision.officer}: {decision.reason} ({before})",
            "needs_officer": False,
            "decided_at": view.decided_at or workflow.now(),
        }))
        s.review_needed = True
        s.changed = True

    async def _close(self, status: ApplicationStatus, reason: str) -> None:
        """End the application: cancel open clearances (they withdraw at their agencies) and wait for them."""
        s = self.s
        s.ended = True
        self._set_status(status, reason)
        for v in s.clearances:
            if self._child_id(v) not in s.started and not v.status.is_final:
                not_sent = f"not sent: application {status.value}"
                self._put_view(v.model_copy(update={"status": ClearanceStatus.withdrawn, "reason": not_sent}))
        for cid, handle in self._children.items():
            self._cancel_child(cid, handle)
        await workflow.wait_condition(lambda: all(cid in s.closed for cid in s.started if cid in self._children))
        await self._notify(f"application_{status.value}", "applicant", reason)
        self._sync_search_attributes()

    def _cancel_child(self, cid: str, handle: workflow.ChildWorkflowHandle | None) -> None:
        """Ask an open clearance workflow to cancel (it withdraws its request at the agency), once."""
        s = self.s
        if cid in s.closed or cid in s.cancelled_children:
            return
        s.cancelled_children.append(cid)
        if handle is not None:
            handle.cancel()

    # ---- amendments ---------------------------------------------------------------

    async def _amend(self, amendment: Amendment) -> AmendmentResult:
        s = self.s
        assert s.plan is not None
        new_input = s.input.model_copy(update={"application": amendment.application})
        plan = await workflow.execute_activity(
            PLAN_APPLICATION,
            PlanInput(application=amendment.application, submitted_at=s.input.submitted_at),
            result_type=ApplicationPlan,
            start_to_close_timeout=PURE_TIMEOUT,
            retry_policy=PURE_RETRY,
        )
        if s.cancel_request is not None or s.status in ENDED:
            raise ApplicationError(f"application {s.input.application_id} ended ({s.status.value}) while the amendment was planned",
                                   type="AmendmentRefused", non_retryable=True)
        if not plan.lead_time_ok and s.expedite is None:
            raise ApplicationError(
                f"amendment of {s.input.application_id} refused: lead time too short for first shoot day "
                f"{amendment.application.first_shoot_date}; earliest feasible start {plan.earliest_feasible_start}",
                type="AmendmentRefused", non_retryable=True,
            )
        # Nothing awaited from here on: the new revision replaces the old one in one step.
        revision = s.revision + 1
        old_input, old_routed = s.input, {r.agency.code.value: r for r in s.plan.agencies}
        result = AmendmentResult(revision=revision)
        views: list[ClearanceView] = []
        for routed in plan.agencies:
            code = routed.agency.code.value
            current = self._view(code)
            if current is not None and code in old_routed and (
                rules.agency_inputs(old_input, old_routed[code]) == rules.agency_inputs(new_input, routed)
            ):
                result.kept.append(code)
                views.append(current.model_copy(update={"depends_on": list(routed.depends_on)}))
                continue
            if current is None:
                result.added.append(code)
            else:
                result.requested_again.append(code)
                self._supersede(current)
            views.append(self._new_view(routed, revision))
        routed_now = {r.agency.code.value for r in plan.agencies}
        for v in s.clearances:
            if v.agency not in routed_now:
                result.withdrawn.append(v.agency)
                self._supersede(v)
                self._event("clearance_withdrawn", f"{v.agency}: no longer needed after amendment (revision {revision})")
        s.revision, s.input, s.plan = revision, new_input, plan
        s.clearances = views
        s.to_confirm = [c for c in s.to_confirm if c in result.kept]
        s.confirmed_rejections = [c for c in s.confirmed_rejections if c in result.kept]
        self._amend_fees(plan.fees, revision)
        self._event(
            "amended",
            f"revision {revision} by {amendment.actor}; requested again: {', '.join(result.requested_again) or 'none'}; "
            f"added: {', '.join(result.added) or 'none'}; kept: {', '.join(result.kept) or 'none'}; "
            f"withdrawn: {', '.join(result.withdrawn) or 'none'}",
        )
        s.review_needed = True
        s.changed = True
        return result

    def _supersede(self, view: ClearanceView) -> None:
        """An older revision's request is no longer wanted: withdraw it at the agency if it is still open."""
        cid = self._child_id(view)
        if view.status.is_final:
            return  # decided already: the new revision is a new request
        if cid not in self.s.started:
            return  # never sent
        self._cancel_child(cid, self._children.get(cid))  # a child still starting is cancelled once it has

    def _amend_fees(self, fees: Fees, revision: int) -> None:
        """New fees for the new revision; what was paid counts, only a difference is due."""
        s = self.s
        old = s.fees
        if old is not None and old.total_idr == fees.total_idr:
            s.fees = old.model_copy(update={"lines": fees.lines, "schedule_version": fees.schedule_version})
            return
        due = max(fees.total_idr - s.paid_idr, 0)
        if due == 0 and old is not None:
            s.fees = fees.model_copy(update={"paid_at": old.paid_at, "payment_id": old.payment_id})
        else:
            s.fees = fees
        self._event(
            "fees_changed",
            f"revision {revision}: total {fees.total_idr} IDR (was {old.total_idr if old else 0} IDR); "
            f"paid {s.paid_idr} IDR; due {due} IDR"
            + ("; the overpayment is refunded by the commission" if s.paid_idr > fees.total_idr else ""),
        )

    def _amount_due(self) -> int:
        s = self.s
        assert s.fees is not None
        return max(s.fees.total_idr - s.paid_idr, 0)

    # ---- payment, issue, completion --------------------------------------------------

    async def _collect_payment(self) -> bool | None:
        """Ask for what is due and wait for a matching payment; none by the deadline → lapsed.

        True when paid, False when the application ended (lapsed, cancelled), None when an
        amendment or override sends it back to its clearances.
        """
        s = self.s
        assert s.plan is not None and s.fees is not None
        if s.fees.paid_at is not None or (s.paid_idr > 0 and self._amount_due() == 0):
            return True
        s.payment_deadline = await workflow.execute_activity(
            COMPUTE_BUSINESS_DEADLINE,
            BusinessDeadlineInput(start=workflow.now(), business_days=s.plan.payment_business_days),
            result_type=dt.datetime,
            start_to_close_timeout=PURE_TIMEOUT,
            retry_policy=PURE_RETRY,
        )
        due = self._amount_due()
        self._set_status(ApplicationStatus.awaiting_payment, f"{due} IDR due by {s.payment_deadline.isoformat()}")
        await self._notify("payment_due", "applicant", f"{due} IDR by {s.payment_deadline.isoformat()}")
        while s.fees.paid_at is None:
            remaining = s.payment_deadline - workflow.now()
            try:
                if remaining <= timedelta(0):
                    raise asyncio.TimeoutError
                await workflow.wait_condition(
                    lambda: bool(s.pending_payments) or s.cancel_request is not None or s.review_needed,
                    timeout=remaining, timeout_summary="payment",
                )
            except asyncio.TimeoutError:
                s.payment_deadline = None
                self._touch()
                await self._close(ApplicationStatus.lapsed, f"no payment within {s.plan.payment_business_days} business days")
                return False
            if s.cancel_request is not None or s.review_needed:
                s.payment_deadline = None
                self._touch()
                return False if s.cancel_request is not None else None
            self._take_payments()
        s.payment_deadline = None
        self._touch()
        return True

    def _take_payments(self) -> None:
        s = self.s
        assert s.fees is not None
        while s.pending_payments and s.fees.paid_at is None:
            p = s.pending_payments.pop(0)
            due = self._amount_due()
            if p.permit_id != s.input.application_id or p.amount_idr != due:
                self._event(
                    "payment_mismatch",
                    f"payment {p.payment_id}: {p.amount_idr} IDR for {p.permit_id}, expected {due} IDR",
                )
                continue
            s.paid_idr += p.amount_idr
            s.fees = s.fees.model_copy(update={"paid_at": p.paid_at, "payment_id": p.payment_id})
            self._event("paid", f"payment {p.payment_id}: {p.amount_idr} IDR")

    async def _issue(self) -> bool:
        """Issue the permit (again after an amendment: the same number, a new document). False when cancelled."""
        s = self.s
        assert s.fees is not None
        again = s.permit is not None
        result = await workflow.execute_activity(
            ISSUE_PERMIT_DOCUMENT,
            IssueDocumentInput(
                application_id=s.input.application_id,
                application=s.input.application,
                clearances=s.clearances,
                fees=s.fees,
                issued_at=workflow.now(),
                public_base_url=s.input.public_base_url,
            ),
            result_type=IssueDocumentResult,
            start_to_close_timeout=DOCUMENT_TIMEOUT,
            retry_policy=PURE_RETRY,
        )
        s.permit = result.permit
        if s.cancel_request is not None:
            return False
        detail = result.permit.number if not again else f"{result.permit.number} (revision {s.revision})"
        self._set_status(ApplicationStatus.issued, detail)
        await self._notify("permit_issued", "applicant", detail)
        for v in s.clearances:
            await self._notify("permit_issued", f"agency:{v.agency}", detail, agency=v.agency)
        return True

    async def _complete(self) -> bool | None:
        """The permit is done the day after the last shoot day (Jakarta).

        True when completed, False when cancelled, None when an amendment or override came first.
        """
        s = self.s
        while True:
            until = rules.day_after_last_shoot(s.input.application.last_shoot_date)
            remaining = until - workflow.now()
            if remaining > timedelta(0):
                try:
                    await workflow.wait_condition(
                        lambda: s.cancel_request is not None or s.review_needed, timeout=remaining,
                        timeout_summary="completion",
                    )
                except asyncio.TimeoutError:
                    continue  # the (possibly amended) last shoot day decides
            if s.cancel_request is not None:
                return False
            if s.review_needed:
                return None
            self._set_status(ApplicationStatus.completed, "")
            return True

    # ---- state helpers ------------------------------------------------------------

    def _view(self, agency: str) -> ClearanceView | None:
        return next((v for v in self.s.clearances if v.agency == agency), None)

    def _put_view(self, view: ClearanceView) -> None:
        """Replace an agency's view (keeping the dependencies the plan gave it) and record what changed."""
        s = self.s
        for i, old in enumerate(s.clearances):
            if old.agency == view.agency:
                new = view.model_copy(update={"depends_on": old.depends_on})
                if view.agency in s.to_confirm and new.status == ClearanceStatus.rejected and old.needs_officer:
                    new.needs_officer, new.reason = True, old.reason  # still a rejection to confirm
                for event, detail in rules.view_change_events(old, new):
                    self._event(event, detail)
                s.clearances[i] = new
                s.changed = True
                self._touch()
                return

    def _set_status(self, status: ApplicationStatus, detail: str) -> None:
        if status == self.s.status:
            return
        self.s.status = status
        self._event(status.value, detail)
        self._sync_search_attributes()

    def _event(self, event: str, detail: str) -> None:
        self.s.timeline.append(TimelineEvent(at=workflow.now(), event=event, detail=detail))
        self._touch()

    def _touch(self) -> None:
        """The status view changed: a new event sequence number for the projector."""
        self.s.seq += 1

    def _next_deadline(self) -> dt.datetime | None:
        s = self.s
        if s.status not in (ApplicationStatus.in_review, ApplicationStatus.awaiting_information,
                            ApplicationStatus.officer_review, ApplicationStatus.awaiting_payment):
            return None
        return rules.next_deadline(s.clearances, s.payment_deadline)

    def _sync_search_attributes(self) -> None:
        """Upsert ApplicationStatus and NextDeadline when they changed (only where the starter enabled them)."""
        s = self.s
        if not s.search_attributes:
            return
        updates = []
        if s.sa_status != s.status.value:
            s.sa_status = s.status.value
            updates.append(STATUS_KEY.value_set(s.status.value))
        deadline = self._next_deadline()
        if deadline != s.sa_deadline:
            s.sa_deadline = deadline
            updates.append(DEADLINE_KEY.value_set(deadline) if deadline is not None else DEADLINE_KEY.value_unset())
        if updates:
            workflow.upsert_search_attributes(updates)

    async def _notify(self, kind: str, audience: str, detail: str = "", agency: str | None = None) -> None:
        """Notify. The applicant's notifications (to its webhook, through the outbox) are retried for days
        beside the application, which never waits on them (the database may be down); the run waits for
        them only before it ends. Officer and agency notifications are best effort.
        """
        if audience == "applicant" and workflow.patched(BACKGROUND_NOTIFY_PATCH):
            self._notifying += 1
            self._tasks.append(asyncio.create_task(self._send_notification(kind, audience, detail, agency)))
            return
        await self._send_notification(kind, audience, detail, agency)

    async def _send_notification(self, kind: str, audience: str, detail: str, agency: str | None) -> None:
        inp = self.s.input
        applicant = audience == "applicant"
        try:
            await send_notification(
                Notification(
                    application_id=inp.application_id, kind=kind, audience=audience, agency=agency, detail=detail,
                    organisation_id=inp.organisation_id if applicant else None,
                    webhook_url=inp.application.applicant.webhook_url if applicant else None,
                )
            )
        finally:
            if applicant and self._notifying:
                self._notifying -= 1
