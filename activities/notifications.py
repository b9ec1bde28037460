"""Notifications: for now one structured log event per notification; real delivery comes in a later issue."""

from __future__ import annotations

from typing import Any

import structlog
from temporalio import activity

from domain.privacy import redact
from schemas.contracts import NOTIFY, Notification


class NotificationActivities:
    """Records each notification as a `notification` log event; it sends nothing to anyone yet."""

    def __init__(self, logger: Any = None) -> None:
        self._log = logger or structlog.get_logger("jfc.notifications")

    @activity.defn(name=NOTIFY)
    async def notify(self, input: Notification) -> None:
        """Emit the event, with e-mail addresses and phone numbers removed from the free-text detail."""
        self._log.info(
            "notification",
            application_id=input.application_id,
            kind=input.kind,
            audience=input.audience,
            agency=input.agency,
            detail=redact(input.detail),
        )
