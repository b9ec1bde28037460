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
