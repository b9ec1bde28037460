"""How a clearance tells its parent of its view: once per workflow task, only when worth telling."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.contracts import SIGNAL_CLEARANCE_CHANGED, ClearanceProgress
    from workflows.clearance import progress
    from workflows.waiting import settled


class ParentLink:
    """Signals the parent `parent_id` the view a workflow task ends with (not for another failed attempt of an
    outage; a closed parent is fine): the views a task passes through (accepted, then decided) never reach history.

    A final view the run returns in this very workflow task (`returns_now()`) is not signalled: the parent takes it
    from the result, a signal and two workflow tasks sooner.
    """

    def __init__(self, parent_id: str, p: ClearanceProgress, returns_now: Callable[[], bool]) -> None:
        self._parent_id = parent_id
        self._p = p
        self._returns_now = returns_now
        self._changes = 0  # bumped by every `publish`: the view may have changed
        self._publishing: asyncio.Task[None] | None = None  # a publication waiting for its workflow task to settle
        self._signals_in_flight = 0

    def idle(self) -> bool:
        return self._publishing is None and not self._signals_in_flight

    def publish(self) -> None:
        """The view may have changed: the parent hears of it once the current workflow task has settled."""
        self._changes += 1
        if self._publishing is None:
            self._publishing = asyncio.create_task(self._publish_when_settled())

    async def _publish_when_settled(self) -> None:
        await settled(lambda: self._changes)
        self._publishing = None
        view = self._p.view
        if not progress.worth_telling(self._p.published, view):
            return
        self._p.published = view.model_copy(deep=True)
        if self._returns_now():
            return
        self._signals_in_flight += 1
        try:
            await workflow.get_external_workflow_handle(self._parent_id).signal(SIGNAL_CLEARANCE_CHANGED,
                                                                                self._p.published)
        except Exception:  # noqa: BLE001 — the parent may have closed; the result still carries the view
            workflow.logger.info("Could not signal parent %s", self._parent_id)
        finally:
            self._signals_in_flight -= 1
