"""Notifications from inside a workflow, the same way for every workflow: sent in the background, drained at the end.

A notification never holds up the application: each runs the `notify` activity in its own task.
The applicant's (to its webhook, through the outbox) are retried for days, through database
outages; officer and agency ones are best effort, and a failed one is only logged. A workflow
waits for `idle()` before it ends or continues as new, whatever way it ends.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ActivityError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from schemas.contracts import NOTIFY, Notification
    from workflows.policies import (
        APPLICANT_NOTIFY_SCHEDULE_TO_CLOSE,
        NOTIFY_RETRY,
        PERSISTENT_RETRY,
        PURE_TIMEOUT,
    )

APPLICANT = "applicant"
OFFICER = "officer"


def agency_audience(code: str) -> str:
    return f"agency:{code}"


class Notifier:
    """Sends one application's notifications; the applicant's go to its organisation's webhook."""

    def __init__(self, application_id: str, organisation_id: str | None, webhook_url: str | None) -> None:
        self._application_id = application_id
        self._organisation_id = organisation_id
        self._webhook_url = webhook_url
        self._tasks: set[asyncio.Task[None]] = set()

    def send(self, kind: str, audience: str, detail: str = "", agency: str | None = None) -> None:
        """Start sending a notification beside the workflow; it never waits for it."""
        applicant = audience == APPLICANT
        notification = Notification(
            application_id=self._application_id, kind=kind, audience=audience, agency=agency, detail=detail,
            organisation_id=self._organisation_id if applicant else None,
            webhook_url=self._webhook_url if applicant else None,
        )
        task = asyncio.create_task(self._deliver(notification))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def idle(self) -> bool:
        """Whether every notification started has been sent (or given up on)."""
        return not self._tasks

    async def _deliver(self, notification: Notification) -> None:
        applicant = notification.audience == APPLICANT
        try:
            await workflow.execute_activity(
                NOTIFY,
                notification,
                start_to_close_timeout=PURE_TIMEOUT,
                schedule_to_close_timeout=APPLICANT_NOTIFY_SCHEDULE_TO_CLOSE if applicant else None,
                retry_policy=PERSISTENT_RETRY if applicant else NOTIFY_RETRY,
                summary=f"{notification.kind} to {notification.audience}",
            )
        except ActivityError as err:
            if is_cancelled_exception(err):
                raise
            workflow.logger.warning("Notification %s for %s failed", notification.kind, notification.audience)
