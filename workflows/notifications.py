"""Sending a notification from inside a workflow, the same way for applications and clearances."""

from __future__ import annotations

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


async def send_notification(notification: Notification) -> None:
    """Run the notify activity: the applicant's (to its webhook, through the outbox) is retried for days;
    officer and agency notifications are best effort, and a failed one is only logged."""
    applicant = notification.audience == "applicant"
    try:
        await workflow.execute_activity(
            NOTIFY,
            notification,
            start_to_close_timeout=PURE_TIMEOUT,
            schedule_to_close_timeout=APPLICANT_NOTIFY_SCHEDULE_TO_CLOSE if applicant else None,
            retry_policy=PERSISTENT_RETRY if applicant else NOTIFY_RETRY,
        )
    except ActivityError as err:
        if is_cancelled_exception(err):
            raise
        workflow.logger.warning("Notification %s for %s failed", notification.kind, notification.audience)
