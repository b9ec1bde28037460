"""The permit workflow's search attributes: `ApplicationStatus` and `NextDeadline`, kept current for Temporal's UI.

Only where the starter set `ApplicationStatus` at start (servers without them registered just skip the upserts).
"""

from __future__ import annotations

import datetime as dt

from temporalio import workflow
from temporalio.common import SearchAttributeKey, TypedSearchAttributes

from schemas.contracts import SEARCH_ATTR_NEXT_DEADLINE, SEARCH_ATTR_STATUS
from schemas.status import ApplicationStatus

STATUS_KEY = SearchAttributeKey.for_keyword(SEARCH_ATTR_STATUS)
DEADLINE_KEY = SearchAttributeKey.for_datetime(SEARCH_ATTR_NEXT_DEADLINE)


class SearchAttributes:
    """Upserts the status and the next deadline when either changed."""

    def __init__(self, enabled: bool, status: str | None = None) -> None:
        self.enabled = enabled
        self._status = status
        self._deadline: dt.datetime | None = None

    @classmethod
    def from_start(cls, attributes: TypedSearchAttributes) -> SearchAttributes:
        """As the starter set them: enabled when it set ApplicationStatus."""
        status = attributes.get(STATUS_KEY)
        return cls(enabled=status is not None, status=status)

    def sync(self, status: ApplicationStatus, deadline: dt.datetime | None) -> None:
        if not self.enabled:
            return
        updates = []
        if self._status != status.value:
            self._status = status.value
            updates.append(STATUS_KEY.value_set(status.value))
        if deadline != self._deadline:
            self._deadline = deadline
            updates.append(DEADLINE_KEY.value_set(deadline) if deadline is not None else DEADLINE_KEY.value_unset())
        if updates:
            workflow.upsert_search_attributes(updates)
