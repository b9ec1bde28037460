"""The permit workflow's search attributes: `ApplicationStatus` and `NextDeadline`, kept current for Temporal's UI.

Only where the starter set `ApplicationStatus` at start (servers without them registered just skip the upserts).
One upsert per workflow task at most, once the task has settled, of the attributes that differ from the last
upserted values: the states a task passes through never reach history.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from temporalio import workflow
from temporalio.common import SearchAttributeKey, TypedSearchAttributes

from schemas.contracts import SEARCH_ATTR_NEXT_DEADLINE, SEARCH_ATTR_STATUS
from schemas.status import ApplicationStatus
from workflows.waiting import settled

STATUS_KEY = SearchAttributeKey.for_keyword(SEARCH_ATTR_STATUS)
DEADLINE_KEY = SearchAttributeKey.for_datetime(SEARCH_ATTR_NEXT_DEADLINE)


class SearchAttributes:
    """Upserts the status and the next deadline that changed, at the end of the workflow task that changed them."""

    def __init__(self, enabled: bool, status: str | None = None) -> None:
        self.enabled = enabled
        self._status = status  # as last upserted (or set by the starter)
        self._deadline: dt.datetime | None = None
        self._wanted: tuple[str | None, dt.datetime | None] = (status, None)
        self._flush: asyncio.Task[None] | None = None  # referenced, so the pending upsert is never collected

    @classmethod
    def from_start(cls, attributes: TypedSearchAttributes) -> SearchAttributes:
        """As the starter set them: enabled when it set ApplicationStatus."""
        status = attributes.get(STATUS_KEY)
        return cls(enabled=status is not None, status=status)

    def sync(self, status: ApplicationStatus, deadline: dt.datetime | None) -> None:
        """Want these values; they are upserted once the current workflow task has settled, if still different."""
        if not self.enabled:
            return
        self._wanted = (status.value, deadline)
        if self._flush is None and self._wanted != (self._status, self._deadline):
            self._flush = asyncio.create_task(self._upsert_when_settled())

    def idle(self) -> bool:
        """Whether every change has been upserted."""
        return self._flush is None

    async def _upsert_when_settled(self) -> None:
        await settled(lambda: self._wanted)
        self._flush = None
        status, deadline = self._wanted
        updates = []
        if status != self._status and status is not None:
            self._status = status
            updates.append(STATUS_KEY.value_set(status))
        if deadline != self._deadline:
            self._deadline = deadline
            updates.append(DEADLINE_KEY.value_set(deadline) if deadline is not None else DEADLINE_KEY.value_unset())
        if updates:
            workflow.upsert_search_attributes(updates)
