"""Decision timers: one pending task per name, re-armed, disarmed or cancelled all at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable


class Timers:
    """Runs `action()` at a unix time, one task per name: arming a name again replaces its task."""

    def __init__(self) -> None:
        self._tasks: dict[Hashable, asyncio.Task] = {}

    def arm(self, name: Hashable, at: float, action: Callable[[], Awaitable[None]]) -> None:
        self.disarm(name)
        task = asyncio.create_task(self._run(at, action))
        self._tasks[name] = task
        task.add_done_callback(lambda done: self._forget(name, done))

    def disarm(self, name: Hashable) -> None:
        """Cancel the pending task of `name`, unless it is the one running this call."""
        task = self._tasks.pop(name, None)
        if task and task is not asyncio.current_task():
            task.cancel()

    async def cancel_all(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    @staticmethod
    async def _run(at: float, action: Callable[[], Awaitable[None]]) -> None:
        await asyncio.sleep(max(0.0, at - time.time()))
        await action()

    def _forget(self, name: Hashable, task: asyncio.Task) -> None:
        if self._tasks.get(name) is task:
            del self._tasks[name]
