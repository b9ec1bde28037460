"""Notifications: one structured log event each; applicant ones with a webhook also go into the outbox.

A workflow sends what one of its tasks produced as one `notify` with a list (`Notifications`); a single
`Notification` is taken too. The outbox row is written once per notification key, so a retried or replayed
`notify` never queues a second copy; the relay (`activities/outbox_relay.py`) delivers it.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.privacy import redact
from schemas.contracts import NOTIFY, OUTBOX_UNAVAILABLE, Notification, Notifications
from store import outbox


def notification_key(notification: Notification, index: int | None = None) -> str:
    """The notification's own key, else one from the running activity and its place in the list, stable across
    the activity's retries and replays."""
    if notification.key:
        return notification.key
    info = activity.info()
    # The run id keeps a continue-as-new or reset run (whose activity ids start again) from reusing a key.
    key = f"{info.workflow_id}:{info.workflow_run_id}:{info.activity_id}"
    return key if index is None else f"{key}:{index}"


class NotificationActivities:
    """Logs every notification; with a pool, queues applicant notifications that have a webhook URL."""

    def __init__(self, pool: asyncpg.Pool | None = None, logger: Any = None) -> None:
        self._pool = pool
        self._log = logger or structlog.get_logger("jfc.notifications")

    @activity.defn(name=NOTIFY)
    async def notify(self, input: Notifications | Notification) -> None:
        """Emit each event (contact details removed from the detail) and queue the applicant's for its webhook.

        Those without a webhook are logged first, on the first attempt only, so an outbox outage that fails the
        activity neither holds them up nor logs them again on its retries.
        """
        if isinstance(input, Notification):
            await self._one(input, None)
            return
        queue = [(i, n) for i, n in enumerate(input.items) if self._queues(n)]
        if activity.info().attempt == 1:
            for n in input.items:
                if not self._queues(n):
                    self._emit(n, None)
        for i, n in queue:
            await self._one(n, i)

    def _queues(self, notification: Notification) -> bool:
        return self._pool is not None and notification.audience == "applicant" and bool(notification.webhook_url)

    async def _one(self, notification: Notification, index: int | None) -> None:
        queued: bool | None = None
        if self._queues(notification):
            assert self._pool is not None
            try:
                queued = await outbox.enqueue(self._pool, notification, notification_key(notification, index))
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as err:
                raise ApplicationError(
                    f"could not queue notification {notification.kind} for {notification.application_id} in the "
                    f"outbox ({type(err).__name__}); retrying",
                    type=OUTBOX_UNAVAILABLE,
                    non_retryable=False,
                ) from err
        self._emit(notification, queued)

    def _emit(self, notification: Notification, queued: bool | None) -> None:
        self._log.info(
            "notification",
            application_id=notification.application_id,
            kind=notification.kind,
            audience=notification.audience,
            agency=notification.agency,
            detail=redact(notification.detail),
            **({} if queued is None else {"outbox": "queued" if queued else "already_queued"}),
        )
