"""A workflow that tells whether its coroutines saw a signal and an activity result that came in one activation
together (they do once every job of an activation is applied before any coroutine runs)."""

from __future__ import annotations

import asyncio
import datetime as dt

from temporalio import workflow

PROBE_ACTIVITY = "activation_probe_activity"


@workflow.defn
class ActivationProbe:
    def __init__(self) -> None:
        self.poked = False
        self.result: str | None = None

    @workflow.signal
    def poke(self) -> None:
        self.poked = True

    @workflow.run
    async def run(self, activity_queue: str) -> bool:
        """Whether the activity's result was in when the signal woke the workflow."""
        fetch = asyncio.create_task(self._fetch(activity_queue))
        await workflow.wait_condition(lambda: self.poked)
        seen = self.result is not None
        await fetch
        return seen

    async def _fetch(self, activity_queue: str) -> None:
        self.result = await workflow.execute_activity(
            PROBE_ACTIVITY, task_queue=activity_queue, start_to_close_timeout=dt.timedelta(seconds=30), result_type=str)
