"""The permit workflow's clearance workflows: started when their dependencies allow, decided by officers, ended."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import is_cancelled_exception

from schemas.contracts import (
    CLEARANCE_WORKFLOW,
    SIGNAL_OFFICER_DECISION,
    ClearanceResult,
    ClearanceWorkflowInput,
)
from schemas.decisions import OfficerDecision, Outcome
from schemas.status import ClearanceStatus
from workflows.permit.application import Application
from workflows.permit.clearances import ChildPhase, Clearance, clearance_request
from workflows.waiting import wait_until

DECISION_WAIT = timedelta(seconds=30)  # how long a `decide` update waits for the clearance to take the decision


class ClearanceWorkflows:
    """Runs the application's clearance workflows, one task each, and brings their outcomes into the application."""

    def __init__(self, app: Application) -> None:
        self.app = app
        self._tasks: list[asyncio.Task[None]] = []  # keeps the runners referenced

    def start_ready(self) -> None:
        """Start every current clearance whose dependencies have approved."""
        for clearance in self.app.clearances.ready():
            clearance.phase = ChildPhase.starting
            if clearance.view.status == ClearanceStatus.waiting_on_dependency:
                self.app.put_view(clearance, clearance.view.model_copy(update={"status": ClearanceStatus.submitting}))
            self._tasks.append(asyncio.create_task(self._run(clearance)))

    async def decide(self, clearance: Clearance, decision: OfficerDecision) -> None:
        """An officer decides an open clearance: its workflow takes the decision, or it is decided here if none runs."""
        app = self.app
        app.event("officer_decision", f"{clearance.agency}: {decision.outcome.value}", actor=decision.officer)
        await workflow.wait_condition(lambda: clearance.phase is not ChildPhase.starting)
        if clearance.phase is ChildPhase.running and clearance.handle is not None:
            before = clearance.view
            try:
                await clearance.handle.signal(SIGNAL_OFFICER_DECISION, decision)
            except Exception:  # noqa: BLE001 — it closed meanwhile: decide here
                workflow.logger.info("Clearance %s closed before the officer decision arrived", clearance.agency)
            else:  # answer with its new view once it has taken the decision
                await wait_until(lambda: clearance.view != before or app.s.ended, workflow.now() + DECISION_WAIT,
                                 "officer-decision")
                return
        if clearance.view.status.is_final or decision.outcome == Outcome.information_required:
            app.event("officer_decision_ignored", f"{clearance.agency}: no open clearance to decide")
            return
        app.decide_here(clearance, decision)

    async def _run(self, clearance: Clearance) -> None:
        """Start one clearance workflow (one agency, one revision) and take its outcome."""
        s, app = self.app.s, self.app
        assert s.plan is not None
        try:
            clearance.handle = await workflow.start_child_workflow(
                CLEARANCE_WORKFLOW,
                ClearanceWorkflowInput(
                    application_id=s.application_id, agency=clearance.routed.agency, revision=clearance.revision,
                    request=clearance_request(s.input, clearance.routed, clearance.id, clearance.revision),
                    information_reply_business_days=s.plan.information_reply_business_days, calendar=s.plan.calendar,
                    parent_workflow_id=workflow.info().workflow_id, organisation_id=s.input.organisation_id,
                    applicant_webhook_url=s.input.application.applicant.webhook_url,
                ),
                id=clearance.id, result_type=ClearanceResult,
                parent_close_policy=workflow.ParentClosePolicy.REQUEST_CANCEL,
            )
        except Exception as err:  # noqa: BLE001 — e.g. the id is taken; an officer decides instead
            clearance.phase = ChildPhase.closed
            app.flag(clearance, f"the clearance could not start: {err}")
            return
        clearance.phase = ChildPhase.running
        app.event("clearance_started", clearance.agency if clearance.revision == 1
                  else f"{clearance.agency} (revision {clearance.revision})")
        if clearance.cancel_requested:  # superseded or closed while it started
            clearance.handle.cancel()
        try:
            result = await clearance.handle
        except (Exception, asyncio.CancelledError) as err:
            if not clearance.current:
                pass  # a superseded revision: its withdrawal is not the application's news
            elif is_cancelled_exception(err):
                if not clearance.view.status.is_final:
                    app.put_view(clearance, clearance.view.model_copy(update={"status": ClearanceStatus.withdrawn}))
            else:
                app.flag(clearance, f"the clearance workflow failed: {getattr(err, 'cause', None) or err}")
        else:
            if clearance.current and not clearance.view.status.is_final:
                app.put_view(clearance, result.view)
        finally:
            clearance.phase = ChildPhase.closed
