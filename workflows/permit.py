"""A filming permit application (design §3): intake, one clearance per agency, payment, issue, completion.

The workflow id is the application id. Its `status` query is the answer of `GET /v1/permits/{id}`.
Every state change bumps `seq`; a background projector sends the latest status view with its seq
to the read model (`record_application`), retrying through database outages without holding up
the application, which waits for it only before it completes.
Search attributes `ApplicationStatus` and `NextDeadline` are kept current when the starter set
`ApplicationStatus` at start (servers without them registered just skip the upserts).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from datetime import timedelta

from temporalio import workflow
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import ActivityError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, Field

    from schemas.contracts import (
        COMPUTE_BUSINESS_DEADLINE,
        ISSUE_PERMIT_DOCUMENT,
        NOTIFY,
        PLAN_APPLICATION,
        RECORD_APPLICATION,
        SEARCH_ATTR_NEXT_DEADLINE,
        SEARCH_ATTR_STATUS,
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
    from schemas.decisions import InformationAnswer, OfficerDecision, OfficerDecisionKind, Outcome, Payment
    from schemas.status import (
        ApplicationStatus,
        ClearanceStatus,
        ClearanceView,
        Fees,
        LocationView,
        PermitInfo,
        PermitStatusView,
        ShootDayView,
        TimelineEvent,
    )
    from workflows import rules
    from workflows.policies import (
        DOCUMENT_TIMEOUT,
        NOTIFY_RETRY,
        PROJECTION_RETRY,
        PROJECTION_TIMEOUT,
        PURE_RETRY,
        PURE_TIMEOUT,
    )

CLEARANCE_WORKFLOW = "AgencyClearanceWorkflow"
REVISION = 1  # amendments (new revisions) come later
# Runs started before the read model existed replay without projections (their histories have no marker).
PROJECTION_PATCH = "read-model-projection"

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
    started: list[str] = Field(default_factory=list, description="Agencies whose clearance workflow was started")
    closed: list[str] = Field(default_factory=list, description="Agencies whose clearance workflow has closed")
    changed: bool = False
    search_attributes: bool = False
    sa_status: str | None = None
    sa_deadline: dt.datetime | None = None
    seq: int = Field(default=0, description="Event sequence: bumped by every change of the status view")
    projected_seq: int = Field(default=0, description="The last seq the read model has taken")
    projecting: bool = False


@workflow.defn(name="PermitApplicationWorkflow")
class PermitApplicationWorkflow:
    """One permit application from submission to completion (or rejection, withdrawal, lapse)."""

    @workflow.init
    def __init__(self, input: PermitWorkflowInput) -> None:
        self.s = PermitState(
            input=input,
            search_attributes=any(p.key.name == SEARCH_ATTR_STATUS for p in workflow.info().typed_search_attributes),
        )
        self._children: dict[str, workflow.ChildWorkflowHandle] = {}
        self._tasks: list[asyncio.Task[None]] = []  # keeps the clearance runners and the projector referenced

    # ---- messages -----------------------------------------------------------------

    @workflow.signal(name="clearance_changed")
    def clearance_changed(self, view: ClearanceView) -> None:
        """A clearance workflow's new view of itself."""
        old = self._view(view.agency)
        if old is None or view.revision != REVISION:
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
        code = view.agency
        self._event("officer_decision", f"{code}: {decision.outcome.value} by {decision.officer}")
        if code in s.started and code not in s.closed:
            await workflow.wait_condition(lambda: code in self._children or code in s.closed)
        handle = self._children.get(code)
        if handle is not None and code not in s.closed:
            try:
                await handle.signal("officer_decision", decision)
                return
            except Exception:  # noqa: BLE001 — it closed meanwhile: decide here
                workflow.logger.info("Clearance %s closed before the officer decision arrived", code)
        self._officer_decides_here(view, decision)

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
            if v.information_request_id == answer.request_id and v.agency in self._children and v.agency not in s.closed:
                self._event("information_answered", f"{v.agency}: request {answer.request_id}")
                try:
                    await self._children[v.agency].signal("information_answered", answer)
                except Exception:  # noqa: BLE001
                    self._event("information_answer_unmatched", f"request {answer.request_id}: the clearance has closed")
                return
        self._event("information_answer_unmatched", f"request {answer.request_id}: no open request has this id")

    @workflow.query(name="status")
    def status(self) -> PermitStatusView:
        s = self.s
        app = s.input.application
        return PermitStatusView(
            id=s.input.application_id,
            status=s.status,
            rule_set=s.plan.rule_set if s.plan else None,
            submitted_at=s.input.submitted_at,
            production_title=app.production.title,
            applicant_company=app.applicant.company,
            locations=[
                LocationView(
                    name=loc.name, kind=loc.kind.value, address=loc.address, city=loc.city,
                    days=[ShootDayView(date=d.date, start=d.start, end=d.end) for d in loc.days],
                )
                for loc in app.locations
            ],
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
                outcome = await self._review()
                if outcome == ApplicationStatus.awaiting_payment and await self._collect_payment():
                    await self._issue()
                    await self._complete()
        except BaseException as err:
            if is_cancelled_exception(err) and workflow.cancellation_reason() is not None:
                await self._close(ApplicationStatus.withdrawn, "the application was cancelled")
                await workflow.wait_condition(self._projected)
            raise
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() and self._projected())
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
            await workflow.wait_condition(lambda: s.expedite is not None)
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

    async def _review(self) -> ApplicationStatus:
        """Run the clearances: independent ones at once, dependent ones once their dependencies approve."""
        s = self.s
        assert s.plan is not None
        self._touch()
        s.clearances = [
            ClearanceView(
                agency=r.agency.code.value,
                revision=REVISION,
                status=ClearanceStatus.waiting_on_dependency if r.depends_on else ClearanceStatus.submitting,
                depends_on=list(r.depends_on),
            )
            for r in s.plan.agencies
        ]
        self._set_status(ApplicationStatus.in_review, "")
        while True:
            s.changed = False
            self._start_ready()
            views = s.clearances
            rejected = [v for v in views if v.status == ClearanceStatus.rejected]
            if rejected:
                reason = "; ".join(f"{v.agency}: {v.reason or 'rejected'}" for v in rejected)
                await self._close(ApplicationStatus.rejected, reason)
                return ApplicationStatus.rejected
            lapsed = [v for v in views if v.status == ClearanceStatus.information_required and v.agency in s.closed]
            if lapsed:
                await self._close(ApplicationStatus.lapsed, "; ".join(f"{v.agency}: {v.reason}" for v in lapsed))
                return ApplicationStatus.lapsed
            if all(v.status.is_approval for v in views):
                return ApplicationStatus.awaiting_payment
            if any(v.status == ClearanceStatus.withdrawn for v in views):
                # Only an outside cancellation of one clearance gets here; the officer decides it instead.
                for v in views:
                    if v.status == ClearanceStatus.withdrawn and not v.needs_officer:
                        v.needs_officer = True
                        self._event("officer_needed", f"{v.agency}: the clearance was withdrawn outside the application")
            self._set_status(rules.review_status(views), "")
            self._sync_search_attributes()
            await workflow.wait_condition(lambda: s.changed)

    def _start_ready(self) -> None:
        s = self.s
        assert s.plan is not None
        for routed in s.plan.agencies:
            code = routed.agency.code.value
            view = self._view(code)
            assert view is not None
            if code in s.started or view.status.is_final:
                continue
            if view.status == ClearanceStatus.waiting_on_dependency and not rules.dependencies_met(view, s.clearances):
                continue
            s.started.append(code)
            if view.status == ClearanceStatus.waiting_on_dependency:
                self._put_view(view.model_copy(update={"status": ClearanceStatus.submitting}))
            self._tasks.append(asyncio.create_task(self._run_clearance(routed)))

    async def _run_clearance(self, routed: RoutedAgency) -> None:
        """Start one clearance workflow and record how it ends."""
        s = self.s
        code = routed.agency.code.value
        child_id = clearance_workflow_id(s.input.application_id, code, REVISION)
        assert s.plan is not None
        try:
            handle = await workflow.start_child_workflow(
                CLEARANCE_WORKFLOW,
                ClearanceWorkflowInput(
                    application_id=s.input.application_id,
                    agency=routed.agency,
                    revision=REVISION,
                    request=rules.build_clearance_request(s.input, routed, REVISION, child_id),
                    information_reply_business_days=s.plan.information_reply_business_days,
                    parent_workflow_id=workflow.info().workflow_id,
                ),
                id=child_id,
                result_type=ClearanceResult,
                parent_close_policy=workflow.ParentClosePolicy.REQUEST_CANCEL,
            )
        except Exception as err:  # noqa: BLE001 — e.g. the id is taken; an officer decides instead
            self._child_failed(code, f"the clearance could not start: {err}")
            return
        self._children[code] = handle
        self._event("clearance_started", code)
        try:
            result = await handle
        except (Exception, asyncio.CancelledError) as err:
            if is_cancelled_exception(err):
                view = self._view(code)
                if view is not None and not view.status.is_final:
                    self._put_view(view.model_copy(update={"status": ClearanceStatus.withdrawn}))
            else:
                self._child_failed(code, f"the clearance workflow failed: {getattr(err, 'cause', None) or err}")
        else:
            self._put_view(result.view)
        finally:
            if code not in s.closed:
                s.closed.append(code)
            s.changed = True

    def _child_failed(self, code: str, reason: str) -> None:
        view = self._view(code)
        if view is not None and not view.status.is_final:
            self._put_view(view.model_copy(update={"needs_officer": True, "reason": reason}))
        if code not in self.s.closed:
            self.s.closed.append(code)
        self.s.changed = True

    def _officer_decides_here(self, view: ClearanceView, decision: OfficerDecision) -> None:
        """An officer decision for a clearance that has no running workflow (never started, or ended abnormally)."""
        active = (ApplicationStatus.in_review, ApplicationStatus.awaiting_information, ApplicationStatus.officer_review)
        if view.status.is_final or decision.outcome == Outcome.information_required or self.s.status not in active:
            self._event("officer_decision_ignored", f"{view.agency}: no open clearance to decide")
            return
        now = workflow.now()
        if view.agency not in self.s.started:
            self.s.started.append(view.agency)  # decided without asking the agency
            self.s.closed.append(view.agency)
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

    async def _close(self, status: ApplicationStatus, reason: str) -> None:
        """End the application: cancel open clearances (they withdraw at their agencies) and wait for them."""
        s = self.s
        self._set_status(status, reason)
        for v in s.clearances:
            if v.agency not in s.started and not v.status.is_final:
                not_sent = f"not sent: application {status.value}"
                self._put_view(v.model_copy(update={"status": ClearanceStatus.withdrawn, "reason": not_sent}))
        for code, handle in self._children.items():
            if code not in s.closed:
                handle.cancel()
        await workflow.wait_condition(lambda: all(code in s.closed for code in s.started if code in self._children))
        await self._notify(f"application_{status.value}", "applicant", reason)
        self._sync_search_attributes()

    async def _collect_payment(self) -> bool:
        """Ask for the fees and wait for a matching payment; none by the deadline → lapsed."""
        s = self.s
        assert s.plan is not None and s.fees is not None
        s.payment_deadline = await workflow.execute_activity(
            COMPUTE_BUSINESS_DEADLINE,
            BusinessDeadlineInput(start=workflow.now(), business_days=s.plan.payment_business_days),
            result_type=dt.datetime,
            start_to_close_timeout=PURE_TIMEOUT,
            retry_policy=PURE_RETRY,
        )
        self._set_status(ApplicationStatus.awaiting_payment, f"{s.fees.total_idr} IDR due by {s.payment_deadline.isoformat()}")
        await self._notify("payment_due", "applicant", f"{s.fees.total_idr} IDR by {s.payment_deadline.isoformat()}")
        while s.fees.paid_at is None:
            remaining = s.payment_deadline - workflow.now()
            try:
                if remaining <= timedelta(0):
                    raise asyncio.TimeoutError
                await workflow.wait_condition(lambda: bool(s.pending_payments), timeout=remaining, timeout_summary="payment")
            except asyncio.TimeoutError:
                s.payment_deadline = None
                self._touch()
                await self._close(ApplicationStatus.lapsed, f"no payment within {s.plan.payment_business_days} business days")
                return False
            self._take_payments()
        s.payment_deadline = None
        self._touch()
        return True

    def _take_payments(self) -> None:
        s = self.s
        assert s.fees is not None
        while s.pending_payments and s.fees.paid_at is None:
            p = s.pending_payments.pop(0)
            if p.permit_id != s.input.application_id or p.amount_idr != s.fees.total_idr:
                self._event(
                    "payment_mismatch",
                    f"payment {p.payment_id}: {p.amount_idr} IDR for {p.permit_id}, expected {s.fees.total_idr} IDR",
                )
                continue
            s.fees = s.fees.model_copy(update={"paid_at": p.paid_at, "payment_id": p.payment_id})
            self._event("paid", f"payment {p.payment_id}: {p.amount_idr} IDR")

    async def _issue(self) -> None:
        s = self.s
        assert s.fees is not None
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
        self._set_status(ApplicationStatus.issued, f"permit {result.permit.number}")
        await self._notify("permit_issued", "applicant", result.permit.number)
        for v in s.clearances:
            await self._notify("permit_issued", f"agency:{v.agency}", result.permit.number, agency=v.agency)

    async def _complete(self) -> None:
        """The permit is done the day after the last shoot day (Jakarta)."""
        s = self.s
        until = rules.day_after_last_shoot(s.input.application.last_shoot_date)
        remaining = until - workflow.now()
        if remaining > timedelta(0):
            await workflow.sleep(remaining, summary="completion")
        self._set_status(ApplicationStatus.completed, "")

    # ---- state helpers ------------------------------------------------------------

    def _view(self, agency: str) -> ClearanceView | None:
        return next((v for v in self.s.clearances if v.agency == agency), None)

    def _put_view(self, view: ClearanceView) -> None:
        """Replace an agency's view (keeping the dependencies the plan gave it) and record what changed."""
        s = self.s
        for i, old in enumerate(s.clearances):
            if old.agency == view.agency:
                new = view.model_copy(update={"depends_on": old.depends_on})
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
        """Best-effort notification: a failed notification never blocks the application."""
        try:
            await workflow.execute_activity(
                NOTIFY,
                Notification(
                    application_id=self.s.input.application_id, kind=kind, audience=audience, agency=agency, detail=detail
                ),
                start_to_close_timeout=PURE_TIMEOUT,
                retry_policy=NOTIFY_RETRY,
            )
        except ActivityError as err:
            if is_cancelled_exception(err):
                raise
            workflow.logger.warning("Notification %s for %s failed", kind, audience)
