"""One agency's clearance of one application revision (design §3): submit, keep the SLA clock, get a decision.

The workflow id is `clearance_workflow_id(application, agency, revision)`, which is also the
Idempotency-Key of the request at the agency, so a retry never creates a second request. `run`
does one `Step` at a time (derived from the progress): each submission is one attempt, retried on
the workflow's own timers, so an outage shows from the first failed call. Decisions come by
webhook (signal) or by polling the agency's status: a poll-mode agency's after acceptance, a
webhook-mode one's when no webhook came in time; one decision id counts once either way. The
parent hears of every change but the attempt counters of an outage; a long wait continues as new.
"""

from __future__ import annotations

import datetime as dt

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from schemas.contracts import (
        CLEARANCE_WORKFLOW,
        QUERY_VIEW,
        SIGNAL_AGENCY_DECISION,
        SIGNAL_INFORMATION_ANSWER,
        SIGNAL_OFFICER_DECISION,
        ClearanceProgress,
        ClearanceResult,
        ClearanceWorkflowInput,
        InformationAnswerInput,
    )
    from schemas.decisions import AgencyDecision, InformationAnswer, OfficerDecision, OfficerDecisionKind, Outcome
    from schemas.status import ClearanceStatus, ClearanceView, SlaState
    from workflows import calls, rules
    from workflows.clearance import progress
    from workflows.clearance.parent import ParentLink
    from workflows.clearance.progress import Step
    from workflows.notifier import APPLICANT, OFFICER, Notifier, agency_audience
    from workflows.policies import OUTAGE_MAX_BACKOFF, REFUSALS
    from workflows.waiting import Alarm, wait_until

# Every round of an outage or of polling adds history: past this length (or when the server suggests it)
# the clearance continues as new between two steps, carrying its whole progress.
CONTINUE_AS_NEW_AFTER_EVENTS = 2_000


@workflow.defn(name=CLEARANCE_WORKFLOW)
class AgencyClearanceWorkflow:
    """A clearance request at one agency, from submission to a final outcome."""

    @workflow.init
    def __init__(self, input: ClearanceWorkflowInput) -> None:
        self.input = input.model_copy(update={"carried_state": None})
        self.p = input.carried_state or ClearanceProgress(
            view=ClearanceView(agency=input.agency.code.value, revision=input.revision, status=ClearanceStatus.submitting)
        )
        self.notifier = Notifier(input.application_id, input.organisation_id, input.applicant_webhook_url)
        self.withdrawing = False  # cancelled: the parent hears of the withdrawal by signal, never by the result
        self.parent = ParentLink(input.parent_workflow_id, self.p, self._returns_now)
        self.alarm = Alarm("sla")  # the next reminder, deadline or poll: kept while the clearance waits for a decision

    # ---- messages -------------------------------------------------------------------

    @workflow.signal(name=SIGNAL_AGENCY_DECISION)
    def agency_decision(self, decision: AgencyDecision) -> None:
        """A decision from the agency's webhook; a replayed decision_id, another request's key or a reference that is
        not this request's changes nothing."""
        if decision.request_key != self.input.request.request_key:
            workflow.logger.warning("Ignoring a decision for another request key (decision %s)", decision.decision_id)
            return
        if not progress.names_our_reference(self.p, decision):
            workflow.logger.warning("Ignoring decision %s: its reference is not this request's", decision.decision_id)
            return
        self._take_agency_decision(decision)

    @workflow.signal(name=SIGNAL_OFFICER_DECISION)
    def officer_decision(self, decision: OfficerDecision) -> None:
        """An officer decides this clearance in place of the agency (forwarded by the permit workflow)."""
        if decision.kind != OfficerDecisionKind.clearance or decision.agency not in (None, self.p.view.agency):
            workflow.logger.warning("Ignoring an officer decision of kind %s for %s", decision.kind, decision.agency)
            return
        self.p.officer_inbox.append(decision)

    @workflow.signal(name=SIGNAL_INFORMATION_ANSWER)
    def information_answer(self, answer: InformationAnswer) -> None:
        """The applicant's answer to the open information request (others are ignored)."""
        v = self.p.view
        if v.status != ClearanceStatus.information_required or answer.request_id != v.information_request_id:
            workflow.logger.info("Ignoring an answer to request %s, not the open one", answer.request_id)
            return
        if all(a.request_id != answer.request_id for a in self.p.answers):
            self.p.answers.append(answer)

    @workflow.query(name=QUERY_VIEW)
    def view(self) -> ClearanceView:
        return self.p.view

    # ---- run ------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: ClearanceWorkflowInput) -> ClearanceResult:
        steps = {Step.submit: self._submit, Step.refused: self._await_officer, Step.decision: self._await_decision,
                 Step.answer: self._await_answer}
        try:
            while (current := progress.step(self.p)) is not Step.done:
                if current is not Step.decision:
                    self.alarm.cancel()  # it would fire for nothing (a done clearance leaves it: no event)
                if self._history_too_long():
                    await self._continue_as_new()
                await steps[current]()
        except BaseException as err:
            if is_cancelled_exception(err) and workflow.cancellation_reason() is not None:
                self.withdrawing = True
                await self._withdraw()
                await workflow.wait_condition(self._idle)
            raise
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() and self._idle())
        return ClearanceResult(view=self.p.view)

    def _idle(self) -> bool:
        """Nothing left to send: no notification, no view for the parent."""
        return self.notifier.idle() and self.parent.idle()

    def _history_too_long(self) -> bool:
        info = workflow.info()
        limit = self.input.continue_as_new_after_events or CONTINUE_AS_NEW_AFTER_EVENTS
        return info.is_continue_as_new_suggested() or info.get_current_history_length() >= limit

    async def _continue_as_new(self) -> None:
        """Between two steps: a new run of this workflow id with the whole progress (never returns).

        The parent's child handle and signals by workflow id follow the new run; an outage episode goes on.
        """
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() and self._idle())
        workflow.logger.info("Clearance %s continues as new after %d events", self.p.view.agency,
                             workflow.info().get_current_history_length())
        workflow.continue_as_new(self.input.model_copy(update={"carried_state": self.p}))

    # ---- submission ---------------------------------------------------------------------

    async def _submit(self) -> None:
        """One attempt to submit; an outage waits on a timer (an officer may decide meanwhile), a 4xx is refused."""
        p = self.p
        await self._apply_inboxes()
        if progress.step(p) is not Step.submit:
            return
        p.view.requested_at = p.view.requested_at or workflow.now()
        try:
            receipt = await calls.submit(self.input.agency, self.input.request)
        except ActivityError as err:
            if is_cancelled_exception(err):
                raise
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type in REFUSALS:
                await self._refused(cause.message)
                return
            delay = await self._unreachable(cause)
            await wait_until(lambda: bool(p.officer_inbox), workflow.now() + delay, "agency-retry")
            return
        await self._accepted(receipt.reference)

    async def _refused(self, message: str) -> None:
        """A 4xx: the request's fault. It stays `submitting`, flagged for an officer, who decides the clearance."""
        p, v = self.p, self.p.view
        p.refused = True
        v.status, v.needs_officer = ClearanceStatus.submitting, True
        v.reason = f"the agency refused the request: {message}"
        workflow.logger.warning("Agency %s refused request %s", v.agency, self.input.request.request_key)
        self.notifier.send("agency_refused", OFFICER, v.reason, agency=v.agency)
        self.parent.publish()

    async def _await_officer(self) -> None:
        await workflow.wait_condition(lambda: bool(self.p.officer_inbox))
        await self._apply_inboxes()

    async def _unreachable(self, cause: BaseException | None) -> dt.timedelta:
        """Record a failed attempt in the current outage episode; return how long to wait before the next one.

        The agency's Retry-After is honoured up to our longest backoff; the first time it asks for longer, the
        officer hears what it asked (and the clearance's reason says so).
        """
        v = self.p.view
        asked = progress.asked_retry_after(cause)
        delay = progress.failed_attempt(self.p, workflow.now(), asked)
        if v.status != ClearanceStatus.agency_unreachable:
            v.status = ClearanceStatus.agency_unreachable
            v.reason = f"agency unreachable since {v.outages[-1].started_at.isoformat(timespec='seconds')}; retrying"
            workflow.logger.warning("Agency %s unreachable; retrying on a timer", v.agency)
            self.notifier.send("agency_unreachable", OFFICER, v.reason, agency=v.agency)
        if progress.retry_after_to_tell(self.p, asked):
            assert asked is not None
            said = (f"{v.agency} asked to be called again in {asked.total_seconds():.0f} s (Retry-After); "
                    f"retrying every {OUTAGE_MAX_BACKOFF.total_seconds():.0f} s at most instead")
            v.reason = f"{v.reason}; {said}"
            workflow.logger.warning("Agency %s asked for a Retry-After of %s s", v.agency, asked.total_seconds())
            self.notifier.send("agency_retry_after_capped", OFFICER, said, agency=v.agency)
        self.parent.publish()
        return delay

    async def _accepted(self, reference: str) -> None:
        """The agency's 2xx: the SLA clock starts now (workflow time, never an activity's clock)."""
        v = self.p.view
        now = workflow.now()
        progress.recovered(self.p, now)
        v.reference, v.accepted_at, v.status, v.reason = reference, now, ClearanceStatus.submitted, None
        await self._set_deadlines()
        self._schedule_poll(first=True)
        self.parent.publish()

    async def _set_deadlines(self) -> None:
        """(Re)compute reminder, due and final deadlines from acceptance plus paused business days."""
        p, v = self.p, self.p.view
        assert v.accepted_at is not None
        d = await calls.sla_deadlines(v.accepted_at, self.input.agency, p.paused_business_days,
                                   self.input.calendar)
        now = workflow.now()
        p.deadlines = d
        v.due_at, v.final_deadline_at, v.sla = d.due_at, d.final_at, rules.sla_by_time(d, now)
        # What is already past was announced; what moved into the future is announced again when it comes.
        p.reminded = d.reminder_at is None or now >= d.reminder_at
        p.breach_escalated = now > d.due_at
        if not p.breach_escalated:
            v.breached_at = None  # the paused days moved due_at past now: no longer a breach

    # ---- waiting for a decision -------------------------------------------------------------

    async def _await_decision(self) -> None:
        """Apply what came in and what the clock says, then wait for the next decision, deadline or poll."""
        p = self.p
        await self._apply_inboxes()
        if progress.step(p) is Step.decision:
            await self._check_clock()
        if progress.step(p) is not Step.decision:
            return
        wake = progress.next_wake(p)
        arrived = lambda: bool(p.agency_inbox or p.officer_inbox)  # noqa: E731
        if wake is None:
            self.alarm.cancel()
            await workflow.wait_condition(arrived)
        else:
            await self.alarm.wait(arrived, wake)
        if p.next_poll_at is not None and workflow.now() >= p.next_poll_at:
            await self._poll()

    async def _check_clock(self) -> None:
        """Apply what the time says: reminder at N-1, breach after due_at, silence rule at the final deadline."""
        p, v = self.p, self.p.view
        now = workflow.now()
        due = progress.clock_events(p, now)
        assert p.deadlines is not None
        if due.remind:
            p.reminded, v.reminded_at, v.sla = True, now, rules.sla_by_time(p.deadlines, now)
            self.notifier.send("agency_reminder", agency_audience(v.agency), f"due {p.deadlines.due_at.isoformat()}",
                               agency=v.agency)
        if due.breach:
            p.breach_escalated, v.sla, v.breached_at = True, SlaState.breached, now
            self.notifier.send("sla_breached", OFFICER, f"{v.agency} was due {p.deadlines.due_at.isoformat()}",
                               agency=v.agency)
        if due.silence:
            p.silence_handled = True
            if self.input.agency.silence_is_consent:
                self.p.view = rules.decided(
                    v, ClearanceStatus.deemed_approved, p.deadlines.final_at, now, conditions=[], decided_by=None,
                    reason="deemed approved: no decision by the final deadline and silence is consent")
            else:
                v.needs_officer = True
                v.reason = "no decision by the final deadline; an officer decides"
                self.notifier.send("officer_decision_needed", OFFICER, f"{v.agency}: silent past its final deadline",
                                   agency=v.agency)
        if due.remind or due.breach or due.silence:
            self.parent.publish()

    def _schedule_poll(self, *, first: bool = False) -> None:
        p = self.p
        p.poll_delay = progress.poll_delay(self.input.agency, None if first else p.poll_delay)
        p.next_poll_at = workflow.now() + p.poll_delay

    async def _poll(self) -> None:
        """Read the request's status at the agency; a decision found is taken as its webhook would have been."""
        p, v = self.p, self.p.view
        self._schedule_poll()
        assert v.reference is not None
        try:
            result = await calls.status_at_agency(self.input.agency, v.reference, self.input.request.request_key)
        except ActivityError as err:
            if is_cancelled_exception(err):
                raise
            workflow.logger.info("Poll of agency %s failed; next poll at %s", v.agency, p.next_poll_at)
            return
        found = progress.polled_decision(result.status, self.input.request.request_key, workflow.now())
        if found is not None:
            self._take_agency_decision(found)

    # ---- decisions ------------------------------------------------------------------------

    def _take_agency_decision(self, decision: AgencyDecision) -> None:
        if decision.decision_id in self.p.seen_decision_ids:
            workflow.logger.info("Ignoring decision %s, already taken", decision.decision_id)
            return
        self.p.seen_decision_ids.append(decision.decision_id)
        self.p.agency_inbox.append(decision)

    async def _apply_inboxes(self) -> None:
        """Apply queued decisions, an officer's first; the agency's only once it accepted the request."""
        p = self.p
        while progress.step(p) is not Step.done:
            if p.officer_inbox:
                d = p.officer_inbox.pop(0)
                p.officer_requests += 1
                request_id = f"{workflow.info().workflow_id}:officer:{p.officer_requests}"
                await self._apply(d.outcome, d.conditions, d.reason, workflow.now(), request_id, decided_by=d.officer)
            elif p.agency_inbox and p.view.accepted_at is not None:
                a = p.agency_inbox.pop(0)
                if not progress.names_our_reference(p, a):  # came before the agency's receipt told us ours
                    workflow.logger.warning("Ignoring decision %s: its reference is not this request's", a.decision_id)
                    p.seen_decision_ids.remove(a.decision_id)  # the agency may send it again, rightly
                    continue
                # The agency's word on when, kept between acceptance and the moment it reached us.
                decided_at = min(max(a.decided_at, p.view.accepted_at), workflow.now())
                await self._apply(a.status, a.conditions, a.reason, decided_at, a.decision_id, decided_by=None)
            else:
                return

    async def _apply(self, outcome: Outcome, conditions: list[str], reason: str | None, decided_at: dt.datetime,
                     request_id: str, *, decided_by: str | None) -> None:
        if outcome == Outcome.information_required:
            if self.p.view.status != ClearanceStatus.information_required:
                await self._request_information(request_id, reason)
            return
        view = rules.decided(self.p.view, ClearanceStatus(outcome.value), decided_at, workflow.now(),
                             conditions=conditions, reason=reason, decided_by=decided_by)
        if view.status == ClearanceStatus.rejected and decided_by is None:  # an agency's rejection: an officer confirms
            view.rejection_to_confirm = view.needs_officer = True
            self.notifier.send("rejection_to_confirm", OFFICER, f"{view.agency}: {reason or 'rejected'}",
                               agency=view.agency)
        self.p.view = view
        workflow.logger.info("Clearance %s decided: %s", view.agency, view.status.value)
        self.parent.publish()

    # ---- information requests -----------------------------------------------------------

    async def _request_information(self, request_id: str, question: str | None) -> None:
        """Pause the SLA and ask the applicant; the request lapses after N business days."""
        p, v = self.p, self.p.view
        now = workflow.now()
        v.status, v.information_request_id = ClearanceStatus.information_required, request_id
        v.sla = SlaState.paused if v.accepted_at is not None else v.sla
        v.reason = question or "the agency needs more information"
        p.info_requested_at = now
        v.information_deadline_at = await calls.business_deadline(now, self.input.information_reply_business_days,
                                                                  self.input.calendar)
        self.notifier.send("information_required", APPLICANT, f"{v.agency}: request {request_id}", agency=v.agency)
        self.parent.publish()

    async def _await_answer(self) -> None:
        """Wait for the answer (or any decision); none by the deadline: the request lapses."""
        p, v = self.p, self.p.view
        assert v.information_deadline_at is not None
        came = lambda: bool(p.answers or p.officer_inbox or (p.agency_inbox and v.accepted_at is not None))  # noqa: E731
        if not await wait_until(came, v.information_deadline_at, "information"):
            await self._lapse()
        elif p.answers:
            await self._answered(p.answers.pop(0))
        else:
            await self._apply_inboxes()

    async def _answered(self, answer: InformationAnswer) -> None:
        """Send the answer on, add the paused business days to the SLA, and resume."""
        p, v = self.p, self.p.view
        if v.reference is not None:
            try:
                await calls.send_answer(InformationAnswerInput(
                    agency=self.input.agency, reference=v.reference, request_key=self.input.request.request_key,
                    request_id=answer.request_id, answer=answer.answer))
            except ActivityError as err:
                if is_cancelled_exception(err):
                    raise
                v.needs_officer = True
                self.notifier.send("answer_not_delivered", OFFICER, f"{v.agency}: {err.cause or err}", agency=v.agency)
        assert p.info_requested_at is not None
        p.paused_business_days += await calls.business_days_between(p.info_requested_at, workflow.now(),
                                                                 self.input.calendar)
        p.info_requested_at = None
        v.information_request_id = v.information_deadline_at = v.reason = None
        if v.accepted_at is not None:
            v.status = ClearanceStatus.submitted
            await self._set_deadlines()
            self._schedule_poll(first=True)  # the agency decides afresh: hear of it soon again
        else:  # an officer's question about a refused request: submit again
            v.status, v.needs_officer, p.refused = ClearanceStatus.submitting, False, False
        self.parent.publish()

    async def _lapse(self) -> None:
        """No answer in time: the clearance ends still waiting on the applicant; the parent lapses the application."""
        v = self.p.view
        v.lapsed_at = workflow.now()
        v.reason = f"lapsed: no answer within {self.input.information_reply_business_days} business days"
        if v.reference is not None:
            await self._withdraw_at_agency()
        self.parent.publish()

    # ---- cancellation ------------------------------------------------------------------------

    async def _withdraw(self) -> None:
        """Cancelled (the application closed elsewhere): withdraw an open request at the agency, then say so."""
        v = self.p.view
        if progress.step(self.p) is Step.done:
            return
        if v.reference is not None:
            await self._withdraw_at_agency()
            v.reason = v.reason if v.needs_officer else "withdrawn: the application was closed"
        else:
            v.reason = "withdrawn before the agency accepted the request"
        v.status, v.needs_officer = ClearanceStatus.withdrawn, False
        v.information_request_id = v.information_deadline_at = None  # decided_at stays empty: never decided
        self.parent.publish()

    async def _withdraw_at_agency(self) -> None:
        v = self.p.view
        assert v.reference is not None
        try:
            await calls.withdraw(self.input.agency, v.reference, self.input.request.request_key)
        except ActivityError as err:
            v.needs_officer = True
            v.reason = f"withdrawal not confirmed by the agency: {err.cause or err}"
            self.notifier.send("withdrawal_failed", OFFICER, f"{v.agency}: {v.reason}", agency=v.agency)

    # ---- the parent ------------------------------------------------------------------------

    def _returns_now(self) -> bool:
        """Whether `run` returns the current view without waiting: done, not withdrawing, nothing left running."""
        return (progress.step(self.p) is Step.done and not self.withdrawing and self.notifier.idle()
                and workflow.all_handlers_finished())
