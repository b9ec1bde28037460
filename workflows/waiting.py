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


async def settled(value: Callable[[], object]) -> None:
    """Return once the current workflow task has run everything it woke and `value()` stopped changing.

    Costs no command: a condition that always holds is checked only after every ready coroutine has run, so
    what the signals, updates and steps of this task change is in `value()` when it returns.
    """
    while True:
        seen = value()
        await workflow.wait_condition(lambda: True)
        if value() == seen:
            return
