"""Waiting inside a workflow for a condition, or for a moment, whichever comes first."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable

from temporalio import workflow


async def wait_until(condition: Callable[[], bool], until: dt.datetime, summary: str) -> bool:
    """Wait for `condition` until `until` (workflow time); False when the moment came first."""
    remaining = until - workflow.now()
    if remaining <= dt.timedelta(0):
        return condition()
    try:
        await workflow.wait_condition(condition, timeout=remaining, timeout_summary=summary)
    except asyncio.TimeoutError:
        return False
    return True


async def wait_in_background(condition: Callable[[], bool]) -> None:
    """`workflow.wait_condition` for work beside the workflow (projections, notifications, telling the parent),
    which goes on while a cancelled workflow winds down.

    With every job of an activation applied at once (workers/logic_flags.py), the SDK raises the arrival of the
    workflow's cancellation in every coroutine then waiting on a condition, not only in the workflow's own: that
    is for the workflow to act on, so such a wait is simply taken up again. A cancellation of the waiting task
    itself still ends it.
    """
    while True:
        try:
            await workflow.wait_condition(condition)
            return
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is None or task.cancelling():
                raise


async def settled(value: Callable[[], object]) -> None:
    """Return once the current workflow task has run everything it woke and `value()` stopped changing.

    Costs no command: a condition that always holds is checked only after every ready coroutine has run, so
    what the signals, updates and steps of this task change is in `value()` when it returns. For background work:
    a cancellation of the workflow does not end it (`wait_in_background`).
    """
    while True:
        seen = value()
        await wait_in_background(lambda: True)
        if value() == seen:
            return


class Alarm:
    """One timer kept across waits for the same moment: a wait woken by its condition leaves the timer running, so
    the next wait for that moment starts no second timer, and a run that ends meanwhile leaves it to the server
    (no TimerCanceled event). Set for another moment (or `cancel`led), it cancels the one it had."""

    def __init__(self, summary: str) -> None:
        self._summary = summary
        self._moment: dt.datetime | None = None
        self._timer: asyncio.Task[None] | None = None

    async def wait(self, condition: Callable[[], bool], moment: dt.datetime) -> bool:
        """Wait for `condition` until `moment` (workflow time); False when the moment came first."""
        if moment <= workflow.now():
            return condition()
        if moment != self._moment or self._timer is None or self._timer.done():
            self.cancel()
            self._moment = moment
            self._timer = asyncio.create_task(workflow.sleep(moment - workflow.now(), summary=self._summary))
        timer = self._timer
        await workflow.wait_condition(lambda: condition() or timer.done())
        return condition()

    def cancel(self) -> None:
        """Cancel the running timer, if any (before a wait of another kind, so it never fires for nothing)."""
        if self._timer is not None and not self._timer.done():
            self._timer.cancel()
        self._timer = self._moment = None
