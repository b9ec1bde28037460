"""Notifications from inside a workflow, the same way for every workflow: sent in the background, drained at the end.

A notification never holds up the application. What a workflow task sends goes out together, as one local `notify`
activity with a list, once the task has settled and the workflow's local lane is free (what is sent while it waits
goes in the same list; each notification keeps its own outbox key). The applicant's
(to its webhook, through the outbox) are retried for days, through database outages, and so is a list holding
one; officer and agency ones alone are best effort, and a failed list is only logged. A workflow waits for
`idle()` before it ends or continues as new, whatever way it ends.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import FailureError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from schemas.contracts import NOTIFY, Notification, Notifications
    from workflows.policies import (
        APPLICANT_NOTIFY_SCHEDULE_TO_CLOSE,
        LOCAL_RETRY_THRESHOLD,
        NOTIFY_RETRY,
        PERSISTENT_RETRY,
        PURE_TIMEOUT,
    )
    from workflows.lane import LocalLane
    from workflows.waiting import settled

APPLICANT = "applicant"
OFFICER = "officer"


def agency_audience(code: str) -> str:
    return f"agency:{code}"


class Notifier:
    """Sends one application's notifications; the applicant's go to its organisation's webhook."""

    def __init__(
        self, application_id: str, organisation_id: str | None, webhook_url: str | None, lane: LocalLane | None = None,
    ) -> None:
        self._application_id = application_id
        self._lane = lane or LocalLane()
        self._organisation_id = organisation_id
        self._webhook_url = webhook_url
        self._pending: list[Notification] = []  # sent in this workflow task, not yet given to an activity
        self._tasks: set[asyncio.Task[None]] = set()

    def send(self, kind: str, audience: str, detail: str = "", agency: str | None = None) -> None:
        """Queue a notification; it goes out with the others of this workflow task, never waited for."""
        applicant = audience == APPLICANT
        self._pending.append(Notification(
            application_id=self._application_id, kind=kind, audience=audience, agency=agency, detail=detail,
            organisation_id=self._organisation_id if applicant else None,
            webhook_url=self._webhook_url if applicant else None,
        ))
        if len(self._pending) == 1:
            task = asyncio.create_task(self._deliver_when_settled())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def idle(self) -> bool:
        """Whether every notification queued has been sent (or given up on)."""
        return not self._tasks and not self._pending

    async def _deliver_when_settled(self) -> None:
        await settled(lambda: len(self._pending))
        async with self._lane:
            batch, self._pending = self._pending, []
            applicant = any(n.audience == APPLICANT for n in batch)
            what = ", ".join(f"{n.kind} to {n.audience}" for n in batch)
            try:
                await workflow.execute_local_activity(
                    NOTIFY,
                    Notifications(items=batch),
                    start_to_close_timeout=PURE_TIMEOUT,
                    schedule_to_close_timeout=APPLICANT_NOTIFY_SCHEDULE_TO_CLOSE if applicant else None,
                    retry_policy=PERSISTENT_RETRY if applicant else NOTIFY_RETRY,
                    local_retry_threshold=LOCAL_RETRY_THRESHOLD,
                    summary=what[:200],
                )
            except FailureError as err:  # a local activity's failure comes as itself, not as an ActivityError
                if is_cancelled_exception(err):
                    raise
                workflow.logger.warning("Notifications failed: %s", what)
