"""One agency's clearance of one application revision (design §3): submit, keep the SLA clock, get a decision.

The workflow id is `clearance_workflow_id(application, agency, revision)`, which is also the
Idempotency-Key of the request at the agency, so retries during an outage never create a
second request. Every change of the view is signalled to the parent permit workflow.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, Field

    from schemas.agency_api import AgencyRequestState
    from schemas.contracts import (
        BUSINESS_DAYS_BETWEEN,
        COMPUTE_BUSINESS_DEADLINE,
        COMPUTE_SLA_DEADLINES,
        GET_CLEARANCE_STATUS,
        SEND_INFORMATION_ANSWER,
        SUBMIT_CLEARANCE,
        WITHDRAW_CLEARANCE,
        AgencyCallInput,
        AgencyStatusResult,
        BusinessDaysBetweenInput,
        BusinessDeadlineInput,
        ClearanceResult,
        ClearanceWorkflowInput,
        InformationAnswerInput,
        Notification,
        SlaDeadlines,
        SlaDeadlinesInput,
        SubmitClearanceInput,
        SubmitClearanceResult,
    )
    from schemas.decisions import AgencyDecision, InformationAnswer, OfficerDecision, OfficerDecisionKind, Outcome
    from schemas.status import ClearanceStatus, ClearanceView, OutageEpisode, SlaState
    from workflows import rules
    from workflows.notifications import send_notification
    from workflows.policies import (
        AGENCY_CALL_TIMEOUT,
        OUTAGE_FIRST_BACKOFF,
        OUTAGE_MAX_BACKOFF,
        PERSISTENT_RETRY,
        PERSISTENT_SCHEDULE_TO_CLOSE,
        POLL_RETRY,
        PURE_RETRY,
        PURE_TIMEOUT,
        REFUSALS,
        SUBMIT_RETRY,
    )

# A long outage adds history every round (about 1,700 events a day): past this length (or when the server
# suggests it) the clearance continues as new between two rounds, carrying its whole state.
CONTINUE_AS_NEW_AFTER_EVENTS = 2_000
CONTINUE_AS_NEW_PATCH = "outage-continue-as-new"


class ClearanceState(BaseModel):
    """Everything the clearance workflow knows; the view is what the parent and the API see."""

    input: ClearanceWorkflowInput
    view: ClearanceView
    deadlines: SlaDeadlines | None = None
    paused_business_days: int = 0
    agency_inbox: list[AgencyDecision] = Field(default_factory=list)
    officer_inbox: list[OfficerDecision] = Field(default_factory=list)
    answers: list[InformationAnswer] = Field(default_factory=list)
    seen_decision_ids: list[str] = Field(default_factory=list)
    refused: bool = False
    outage_since: dt.datetime | None = None
    reminded: bool = False
    breach_escalated: bool = False
    silence_handled: bool = False
    info_requested_at: dt.datetime | None = None
    officer_requests: int = 0
    next_poll_at: dt.datetime | None = None
    poll_delay_seconds: int = 0
    lapsed: bool = False
    outage_backoff: timedelta | None = None  # the next round's backoff, carried over a continue-as-new


@workflow.defn(name="AgencyClearanceWorkflow")
class AgencyClearanceWorkflow:
    """A clearance request at one agency, from submission to a final outcome."""

    @workflow.init
    def __init__(self, input: ClearanceWorkflowInput) -> None:
        if input.carried_state is not None:  # a run continued as new: the previous run's state, outage and all
            fresh = input.model_copy(update={"carried_state": None})
            self.s = ClearanceState.model_validate({**input.carried_state, "input": fresh})
            return
        self.s = ClearanceState(
            input=input,
            view=ClearanceView(agency=input.agency.code.value, revision=input.revision, status=ClearanceStatus.submitting),
        )

    # ---- messages ---------------------------------------------------------------

    @workflow.signal(name="agency_decision")
    def agency_decision(self, decision: AgencyDecision) -> None:
        """A decision from the agency's webhook; a replayed decision_id or another request's key changes nothing."""
        if decision.request_key != self.s.input.request.request_key:
            workflow.logger.warning("Ignoring a decision for another request key (decision %s)", decision.decision_id)
            return
        if decision.decision_id in self.s.seen_decision_ids:
            workflow.logger.info("Ignoring duplicate decision %s", decision.decision_id)
            return
        self.s.seen_decision_ids.append(decision.decision_id)
        self.s.agency_inbox.append(decision)

    @workflow.signal(name="officer_decision")
    def officer_decision(self, decision: OfficerDecision) -> None:
        """An officer decides this clearance in place of the agency (at any time)."""
        if decision.kind != OfficerDecisionKind.clearance:
            return
        if decision.agency is not None and decision.agency != self.s.view.agency:
            workflow.logger.warning("Ignoring an officer decision for agency %s", decision.agency)
            return
        self.s.officer_inbox.append(decision)

    @workflow.signal(name="information_answered")
    def information_answered(self, answer: InformationAnswer) -> None:
        """The applicant's answer to the open information request (others are ignored)."""
        v = self.s.view
        if v.status != ClearanceStatus.information_required or answer.request_id != v.information_request_id:
            workflow.logger.info("Ignoring an answer to request %s, not the open one", answer.request_id)
            return
        if not any(a.request_id == answer.request_id for a in self.s.answers):
            self.s.answers.append(answer)

    @workflow.query(name="view")
    def view(self) -> ClearanceView:
        return self.s.view

    # ---- run ----------------------------------------------------------------------

    @workflow.run
    async def run(self, input: ClearanceWorkflowInput) -> ClearanceResult:
        try:
            await self._submit_until_accepted()
            await self._decide()
        except BaseException as err:
            if is_cancelled_exception(err) and workflow.cancellation_reason() is not None:
                await self._withdraw()
            raise
        await workflow.wait_condition(workflow.all_handlers_finished)
        return ClearanceResult(view=self.s.view)

    def _done(self) -> bool:
        return self.s.view.status.is_final or self.s.lapsed

    # ---- submission ---------------------------------------------------------------

    async def _submit_until_accepted(self) -> None:
        """Submit until the agency accepts; an outage retries forever on timers, a refusal waits for an officer."""
        s, v = self.s, self.s.view
        backoff = s.outage_backoff or OUTAGE_FIRST_BACKOFF
        s.outage_backoff = None
        while True:
            await self._apply_inboxes(agency=False)
            if self._done() or v.status == ClearanceStatus.submitted:
                return
            if v.status == ClearanceStatus.information_required:
                await self._wait_for_answer()
                continue
            if s.refused:
                await workflow.wait_condition(lambda: bool(s.officer_inbox))
                continue
            if v.requested_at is None:
                v.requested_at = workflow.now()
            try:
                receipt = await workflow.execute_activity(
                    SUBMIT_CLEARANCE,
                    SubmitClearanceInput(agency=s.input.agency, request=s.input.request),
                    result_type=SubmitClearanceResult,
                    start_to_close_timeout=AGENCY_CALL_TIMEOUT,
                    retry_policy=SUBMIT_RETRY,
                )
            except ActivityError as err:
                if is_cancelled_exception(err):
                    raise
                cause = err.cause
                if isinstance(cause, ApplicationError) and cause.type in REFUSALS:
                    await self._refused(cause.message)
                    continue
                delay = await self._outage(cause, backoff)
                backoff = min(backoff * 2, OUTAGE_MAX_BACKOFF)
                try:
                    await workflow.wait_condition(lambda: bool(s.officer_inbox), timeout=delay, timeout_summary="agency-retry")
                except asyncio.TimeoutError:
                    pass
                if not s.officer_inbox and self._history_too_long() and workflow.patched(CONTINUE_AS_NEW_PATCH):
                    await self._continue_as_new(backoff)
                continue
            await self._accepted(receipt.reference)
            return

    def _history_too_long(self) -> bool:
        """Whether this run's history is long enough to continue as new (the server's hint or our limit)."""
        info = workflow.info()
        limit = self.s.input.continue_as_new_after_events or CONTINUE_AS_NEW_AFTER_EVENTS
        return info.is_continue_as_new_suggested() or info.get_current_history_length() >= limit

    async def _continue_as_new(self, backoff: timedelta) -> None:
        """Between two outage rounds: start a new run of this workflow id with the whole state (never returns).

        The parent's child handle and signals by workflow id follow the new run; the outage episode goes on.
        """
        s = self.s
        await workflow.wait_condition(workflow.all_handlers_finished)
        s.outage_backoff = backoff
        carried = s.model_dump(mode="json", exclude={"input"})
        workflow.logger.info(
            "Clearance %s continues as new after %d events (outage since %s)",
            s.view.agency, workflow.info().get_current_history_length(), s.outage_since,
        )
        workflow.continue_as_new(s.input.model_copy(update={"carried_state": carried}))

    async def _refused(self, message: str) -> None:
        """A 4xx: the request's fault. It stays `submitting`, flagged for an officer, who decides the clearance."""
        s, v = self.s, self.s.view
        s.refused = True
        v.status = ClearanceStatus.submitting
        v.needs_officer = True
        v.reason = f"the agency refused the request: {message}"
        workflow.logger.warning("Agency %s refused request %s", v.agency, s.input.request.request_key)
        await self._notify("agency_refused", "officer", v.reason)
        await self._publish()

    async def _outage(self, cause: BaseException | None, backoff: timedelta) -> timedelta:
        """Record a failed submission round in the current outage episode; return how long to wait for the next."""
        s, v = self.s, self.s.view
        v.failed_attempts += 1
        if s.outage_since is None:  # the first failed round of a new episode
            s.outage_since = workflow.now()
            v.outages.append(OutageEpisode(started_at=s.outage_since))
        v.outages[-1].failed_attempts += 1
        delay = backoff
        if isinstance(cause, ApplicationError) and cause.next_retry_delay and cause.next_retry_delay > delay:
            delay = cause.next_retry_delay
        if v.status != ClearanceStatus.agency_unreachable:
            v.status = ClearanceStatus.agency_unreachable
            v.reason = f"agency unreachable since {s.outage_since.isoformat(timespec='seconds')}; retrying"
            workflow.logger.warning("Agency %s unreachable; retrying on a timer", v.agency)
            await self._notify("agency_unreachable", "officer", v.reason)
        await self._publish()
        return delay

    async def _accepted(self, reference: str) -> None:
        """The agency's 2xx: the SLA clock starts now (workflow time, never an activity's clock)."""
        s, v = self.s, self.s.view
        now = workflow.now()
        if s.outage_since is not None:
            workflow.logger.info("Agency %s reachable again after %s", v.agency, now - s.outage_since)
            s.outage_since = None
            v.outages[-1].recovered_at = now
        v.reference = reference
        v.accepted_at = now
        v.status = ClearanceStatus.submitted
        v.reason = None
        await self._set_deadlines()
        if s.input.agency.mode.value == "poll":
            s.poll_delay_seconds = 0
            self._schedule_poll()
        await self._publish()

    def _schedule_poll(self) -> None:
        """Poll soon after acceptance, then back off (doubling) to the agency's poll interval."""
        s = self.s
        agency = s.input.agency
        if s.poll_delay_seconds == 0:
            s.poll_delay_seconds = agency.first_poll_seconds
        else:
            s.poll_delay_seconds = min(s.poll_delay_seconds * 2, agency.poll_interval_minutes * 60)
        s.next_poll_at = workflow.now() + timedelta(seconds=s.poll_delay_seconds)

    async def _set_deadlines(self) -> None:
        """(Re)compute reminder, due and final deadlines from acceptance plus paused business days."""
        s, v = self.s, self.s.view
        assert v.accepted_at is not None
        d = await workflow.execute_activity(
            COMPUTE_SLA_DEADLINES,
            SlaDeadlinesInput(
                accepted_at=v.accepted_at,
                sla_days=s.input.agency.sla_days,
                grace_days=s.input.agency.grace_days,
                paused_business_days=s.paused_business_days,
            ),
            result_type=SlaDeadlines,
            start_to_close_timeout=PURE_TIMEOUT,
            retry_policy=PURE_RETRY,
        )
        now = workflow.now()
        s.deadlines = d
        v.due_at, v.final_deadline_at = d.due_at, d.final_at
        v.sla = rules.sla_by_time(d, now)
        # What is already past was announced; what moved into the future is announced again when it comes.
        s.reminded = d.reminder_at is None or now >= d.reminder_at
        s.breach_escalated = now > d.due_at
        if not s.breach_escalated:
            v.breached_at = None  # the paused days moved due_at past now: no longer a breach

    # ---- waiting for a decision ---------------------------------------------------

    async def _decide(self) -> None:
        """Wait for a decision on a movable deadline: reminders, breach, silence, polls."""
        s, v = self.s, self.s.view
        while True:
            await self._apply_inboxes()
            if self._done():
                return
            if v.status == ClearanceStatus.information_required:
                await self._wait_for_answer()
                continue
            if v.status != ClearanceStatus.submitted:  # an answer to an officer question on a refused request
                await self._submit_until_accepted()
                continue
            await self._check_clock()
            if self._done():
                return
            wake = self._next_wake()
            if wake is None:
                await workflow.wait_condition(lambda: bool(s.agency_inbox or s.officer_inbox))
            else:
                remaining = wake - workflow.now()
                if remaining > timedelta(0):
                    try:
                        await workflow.wait_condition(
                            lambda: bool(s.agency_inbox or s.officer_inbox), timeout=remaining, timeout_summary="sla"
                        )
                    except asyncio.TimeoutError:
                        pass
            if s.next_poll_at is not None and workflow.now() >= s.next_poll_at:
                await self._poll()

    def _next_wake(self) -> dt.datetime | None:
        s = self.s
        d = s.deadlines
        assert d is not None
        moments = [s.next_poll_at]
        if d.reminder_at is not None and not s.reminded:
            moments.append(d.reminder_at)
        if not s.breach_escalated:
            moments.append(d.due_at + timedelta(seconds=1))  # breached *after* due_at
        if not s.silence_handled:
            moments.append(d.final_at)
        found = [m for m in moments if m is not None]
        return min(found) if found else None

    async def _check_clock(self) -> None:
        """Apply what the time says: reminder at N-1, breach after due_at, silence rule at the final deadline."""
        s, v = self.s, self.s.view
        d = s.deadlines
        assert d is not None
        now = workflow.now()
        changed = False
        if not s.reminded and d.reminder_at is not None and now >= d.reminder_at:
            s.reminded = True
            v.reminded_at = now
            v.sla = rules.sla_by_time(d, now)
            changed = True
            await self._notify("agency_reminder", f"agency:{v.agency}", f"due {d.due_at.isoformat()}")
        if not s.breach_escalated and now > d.due_at:
            s.breach_escalated = True
            v.sla = SlaState.breached
            v.breached_at = now
            changed = True
            await self._notify("sla_breached", "officer", f"{v.agency} was due {d.due_at.isoformat()}")
        if not s.silence_handled and now >= d.final_at:
            s.silence_handled = True
            changed = True
            if s.input.agency.silence_is_consent:
                self._final(
                    ClearanceStatus.deemed_approved, d.final_at, [],
                    "deemed approved: no decision by the final deadline and silence is consent",
                )
            else:
                v.needs_officer = True
                v.reason = "no decision by the final deadline; an officer decides"
                await self._notify("officer_decision_needed", "officer", f"{v.agency}: silent past its final deadline")
        if changed:
            await self._publish()

    async def _poll(self) -> None:
        """Poll-mode agencies: read the request's status; a failed poll waits for the next one."""
        s, v = self.s, self.s.view
        self._schedule_poll()
        assert v.reference is not None
        try:
            result = await workflow.execute_activity(
                GET_CLEARANCE_STATUS,
                AgencyCallInput(agency=s.input.agency, reference=v.reference, request_key=s.input.request.request_key),
                result_type=AgencyStatusResult,
                start_to_close_timeout=AGENCY_CALL_TIMEOUT,
                retry_policy=POLL_RETRY,
            )
        except ActivityError as err:
            if is_cancelled_exception(err):
                raise
            workflow.logger.info("Poll of agency %s failed; next poll at %s", v.agency, s.next_poll_at)
            return
        st = result.status
        if st.status in (AgencyRequestState.received, AgencyRequestState.withdrawn):
            return
        decision_id = st.decision_id or f"poll:{st.status.value}:{st.decided_at.isoformat() if st.decided_at else ''}"
        if decision_id in s.seen_decision_ids:
            return
        s.seen_decision_ids.append(decision_id)
        s.agency_inbox.append(
            AgencyDecision(
                decision_id=decision_id,
                reference=st.reference,
                request_key=s.input.request.request_key,
                status=Outcome(st.status.value),
                conditions=st.conditions,
                reason=st.reason,
                decided_at=st.decided_at or workflow.now(),
            )
        )

    # ---- decisions ----------------------------------------------------------------

    async def _apply_inboxes(self, agency: bool = True) -> None:
        """Apply queued decisions, officer's first; agency decisions only once the request was accepted."""
        s, v = self.s, self.s.view
        while not self._done():
            if s.officer_inbox:
                d = s.officer_inbox.pop(0)
                s.officer_requests += 1
                request_id = f"{workflow.info().workflow_id}:officer:{s.officer_requests}"
                await self._apply(d.outcome, d.conditions, f"{d.reason} (officer {d.officer})", workflow.now(), request_id)
            elif agency and s.agency_inbox and v.accepted_at is not None:
                d2 = s.agency_inbox.pop(0)
                if v.reference is not None and d2.reference != v.reference:
                    workflow.logger.warning(
                        "Decision %s names reference %s, ours is %s", d2.decision_id, d2.reference, v.reference
                    )
                # The agency's word on when, kept between acceptance and the moment it reached us.
                decided_at = min(max(d2.decided_at, v.accepted_at), workflow.now())
                await self._apply(d2.status, d2.conditions, d2.reason, decided_at, d2.decision_id)
            else:
                return

    async def _apply(
        self, outcome: Outcome, conditions: list[str], reason: str | None, decided_at: dt.datetime, request_id: str
    ) -> None:
        v = self.s.view
        if outcome == Outcome.information_required:
            if v.status == ClearanceStatus.information_required:
                return  # already waiting on the applicant
            await self._request_information(request_id, reason)
            return
        self._final(ClearanceStatus(outcome.value), decided_at, conditions, reason)
        await self._publish()

    def _final(self, status: ClearanceStatus, decided_at: dt.datetime, conditions: list[str], reason: str | None) -> None:
        v = self.s.view
        v.status = status
        v.decided_at = decided_at
        v.conditions = list(conditions)
        v.reason = reason
        v.needs_officer = False
        v.information_request_id = None
        v.information_deadline_at = None
        v.sla = rules.sla_at_decision(decided_at, v.due_at)
        v.breached_at = rules.breached_at(v, workflow.now())
        workflow.logger.info("Clearance %s decided: %s", v.agency, status.value)

    # ---- information requests -----------------------------------------------------

    async def _request_information(self, request_id: str, question: str | None) -> None:
        """Pause the SLA and ask the applicant; the request lapses after N business days."""
        s, v = self.s, self.s.view
        now = workflow.now()
        v.status = ClearanceStatus.information_required
        if v.accepted_at is not None:
            v.sla = SlaState.paused
        v.information_request_id = request_id
        v.reason = question or "the agency needs more information"
        s.info_requested_at = now
        v.information_deadline_at = await workflow.execute_activity(
            COMPUTE_BUSINESS_DEADLINE,
            BusinessDeadlineInput(start=now, business_days=s.input.information_reply_business_days),
            result_type=dt.datetime,
            start_to_close_timeout=PURE_TIMEOUT,
            retry_policy=PURE_RETRY,
        )
        await self._notify("information_required", "applicant", f"{v.agency}: request {request_id}")
        await self._publish()

    async def _wait_for_answer(self) -> None:
        """Wait for the answer (or any decision); none by the deadline → the clearance lapses."""
        s, v = self.s, self.s.view
        assert v.information_deadline_at is not None
        remaining = v.information_deadline_at - workflow.now()
        try:
            if remaining <= timedelta(0):
                raise asyncio.TimeoutError
            await workflow.wait_condition(
                lambda: bool(s.answers or s.officer_inbox or (s.agency_inbox and v.accepted_at is not None)),
                timeout=remaining,
                timeout_summary="information",
            )
        except asyncio.TimeoutError:
            await self._lapse()
            return
        if s.answers:
            await self._answered(s.answers.pop(0))

    async def _answered(self, answer: InformationAnswer) -> None:
        """Send the answer on, add the paused business days to the SLA, and resume."""
        s, v = self.s, self.s.view
        if v.reference is not None:
            try:
                await workflow.execute_activity(
                    SEND_INFORMATION_ANSWER,
                    InformationAnswerInput(
                        agency=s.input.agency, reference=v.reference, request_key=s.input.request.request_key,
                        request_id=answer.request_id, answer=answer.answer,
                    ),
                    start_to_close_timeout=AGENCY_CALL_TIMEOUT,
                    schedule_to_close_timeout=PERSISTENT_SCHEDULE_TO_CLOSE,
                    retry_policy=PERSISTENT_RETRY,
                )
            except ActivityError as err:
                if is_cancelled_exception(err):
                    raise
                v.needs_officer = True
                await self._notify("answer_not_delivered", "officer", f"{v.agency}: {err.cause or err}")
        assert s.info_requested_at is not None
        paused = await workflow.execute_activity(
            BUSINESS_DAYS_BETWEEN,
            BusinessDaysBetweenInput(start=s.info_requested_at, end=workflow.now()),
            result_type=int,
            start_to_close_timeout=PURE_TIMEOUT,
            retry_policy=PURE_RETRY,
        )
        s.paused_business_days += paused
        s.info_requested_at = None
        v.information_request_id = None
        v.information_deadline_at = None
        v.reason = None
        if v.accepted_at is not None:
            v.status = ClearanceStatus.submitted
            await self._set_deadlines()
            if s.input.agency.mode.value == "poll":  # the agency decides afresh: poll soon again
                s.poll_delay_seconds = 0
                self._schedule_poll()
        else:  # an officer's question about a refused request: submit again
            v.status = ClearanceStatus.submitting
            v.needs_officer = False
            s.refused = False
        await self._publish()

    async def _lapse(self) -> None:
        """No answer in time: the clearance ends still waiting on the applicant; the parent lapses the application."""
        s, v = self.s, self.s.view
        s.lapsed = True
        v.reason = f"lapsed: no answer within {s.input.information_reply_business_days} business days"
        if v.reference is not None:
            await self._withdraw_at_agency()
        await self._publish()

    # ---- cancellation -------------------------------------------------------------

    async def _withdraw(self) -> None:
        """Cancelled (the application closed elsewhere): withdraw an open request at the agency, then say so."""
        v = self.s.view
        if v.status.is_final or self.s.lapsed:
            return
        if v.reference is not None:
            await self._withdraw_at_agency()
            v.reason = v.reason if v.needs_officer else "withdrawn: the application was closed"
        else:
            v.reason = "withdrawn before the agency accepted the request"
        v.status = ClearanceStatus.withdrawn
        v.needs_officer = False
        v.information_request_id = None
        v.information_deadline_at = None  # decided_at stays empty: a withdrawn request was never decided
        await self._publish()

    async def _withdraw_at_agency(self) -> None:
        s, v = self.s, self.s.view
        assert v.reference is not None
        try:
            await workflow.execute_activity(
                WITHDRAW_CLEARANCE,
                AgencyCallInput(agency=s.input.agency, reference=v.reference, request_key=s.input.request.request_key),
                start_to_close_timeout=AGENCY_CALL_TIMEOUT,
                schedule_to_close_timeout=PERSISTENT_SCHEDULE_TO_CLOSE,
                retry_policy=PERSISTENT_RETRY,
            )
        except ActivityError as err:
            v.needs_officer = True
            v.reason = f"withdrawal not confirmed by the agency: {err.cause or err}"
            await self._notify("withdrawal_failed", "officer", f"{v.agency}: {v.reason}")

    # ---- outputs ------------------------------------------------------------------

    async def _publish(self) -> None:
        """Tell the parent the view changed (a closed or missing parent is not an error here)."""
        try:
            await workflow.get_external_workflow_handle(self.s.input.parent_workflow_id).signal(
                "clearance_changed", self.s.view.model_copy(deep=True)
            )
        except Exception:  # noqa: BLE001 — the parent may have closed; the result still carries the view
            workflow.logger.info("Could not signal parent %s", self.s.input.parent_workflow_id)

    async def _notify(self, kind: str, audience: str, detail: str = "") -> None:
        """Notify; an applicant's notification (to its webhook, through the outbox) is retried for days.

        Officer and agency notifications are best effort: a failed one never blocks the clearance.
        """
        inp = self.s.input
        applicant = audience == "applicant"
        await send_notification(
            Notification(
                application_id=inp.application_id, kind=kind, audience=audience,
                agency=self.s.view.agency, detail=detail,
                organisation_id=inp.organisation_id if applicant else None,
                webhook_url=inp.applicant_webhook_url if applicant else None,
            )
        )
