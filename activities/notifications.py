"""Notifications: one structured log event each; applicant ones with a webhook also go into the outbox.

The outbox row is written once per key, so a retried or replayed `notify` never queues a
second copy; the relay (`activities/outbox_relay.py`) delivers it.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.privacy import redact
from schemas.contracts import NOTIFY, OUTBOX_UNAVAILABLE, Notification
from store import outbox


def notification_key(notification: Notification) -> str:
    """The notification's own key, else one from the running activity, stable across its retries and replays."""
    if notification.key:
        return notification.key
    info = activity.info()
    # The run id keeps a continue-as-new or reset run (whose activity ids start again) from reusing a key.
    return f"{info.workflow_id}:{info.workflow_run_id}:{info.activity_id}"


class NotificationActivities:
    """Logs every notification; with a pool, queues applicant notifications that have a webhook URL."""

    def __init__(self, pool: asyncpg.Pool | None = None, logger: Any = None) -> None:
        self._pool = pool
        self._log = logger or structlog.get_logger("jfc.notifications")

    @activity.defn(name=NOTIFY)
    async def notify(self, input: Notification) -> None:
        """Emit the event (contact details removed from the detail), then queue it for the applicant's webhook."""
        queued: bool | None = None
        if self._pool is not None and input.audience == "applicant" and input.webhook_url:
            key = notification_key(input)
            try:
                queued = await outbox.enqueue(self._pool, input, key)
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as err:
                raise ApplicationError(
                    f"could not queue notification {input.kind} for {input.application_id} in the outbox "
                    f"({type(err).__name__}); retrying",
                    type=OUTBOX_UNAVAILABLE,
                    non_retryable=False,
                ) from err
        self._log.info(
            "notification",
            application_id=input.application_id,
            kind=input.kind,
            audience=input.audience,
            agency=input.agency,
            detail=redact(input.detail),
            **({} if queued is None else {"outbox": "queued" if queued else "already_queued"}),
        )
