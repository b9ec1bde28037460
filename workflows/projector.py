"""The read model's copy of a workflow's view, kept current from inside the workflow, in the background.

Every change of the view bumps the workflow's version; the projector sends the latest view with
its version to a record (local) activity whenever the version moved, once the workflow task that moved it
has settled and the workflow's local lane is free (the states in between coalesce, within a task and while the
lane is busy).
It runs beside the workflow and is never awaited by it: a database outage only delays the read
model (the activity retries without limit), never the application, which waits for
`caught_up()` only before it ends. A version the database refuses for good (its data cannot be
stored) is given up: the refusal is noted for operators by the activity, the next version is
tried when the view changes again, and the workflow is not held open by it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, FailureError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from schemas.contracts import PROJECTION_REFUSED
    from workflows.lane import LocalLane
    from workflows.policies import LOCAL_RETRY_THRESHOLD, PROJECTION_RETRY, PROJECTION_TIMEOUT
    from workflows.waiting import settled, wait_in_background

if TYPE_CHECKING:
    from pydantic import BaseModel

RETRY_AFTER_REFUSAL = timedelta(minutes=1)


class Projector:
    """Projects `input_at(version)` through the activity `activity` each time `version()` grows."""

    def __init__(
        self, activity: str, version: Callable[[], int], input_at: Callable[[int], BaseModel], lane: LocalLane,
    ) -> None:
        self._activity = activity
        self._lane = lane
        self._version = version
        self._input_at = input_at
        self.projected = 0
        self.refused = 0  # the latest version the database refused for good
        self._task: asyncio.Task[None] | None = None  # referenced, so the running loop is never collected

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def caught_up(self) -> bool:
        """Whether the read model holds the latest version (or the database refused it for good)."""
        return max(self.projected, self.refused) >= self._version()

    async def _run(self) -> None:
        while True:
            await wait_in_background(lambda: not self.caught_up())
            await settled(self._version)  # what this workflow task changes goes in one projection
            async with self._lane:
                version = self._version()
                failure = await self._record(version)
            if failure is None:
                self.projected = max(self.projected, version)
            elif isinstance(failure, ApplicationError) and failure.type == PROJECTION_REFUSED:
                workflow.logger.error("Projection of seq %s refused for good: %s", version, failure)
                self.refused = max(self.refused, version)
            else:  # only a non-retryable failure gets here (the policy retries everything else): try again later
                workflow.logger.error("Projection of seq %s failed: %s; trying again", version, failure)
                await workflow.sleep(RETRY_AFTER_REFUSAL, summary="projection")

    async def _record(self, version: int) -> BaseException | None:
        """Project `version`; the failure, if the activity gave up."""
        try:
            await workflow.execute_local_activity(
                self._activity,
                self._input_at(version),
                result_type=bool,
                start_to_close_timeout=PROJECTION_TIMEOUT,
                retry_policy=PROJECTION_RETRY,
                local_retry_threshold=LOCAL_RETRY_THRESHOLD,
                summary=f"seq {version}",
            )
        except FailureError as err:  # a local activity's failure comes as itself, not as an ActivityError
            if is_cancelled_exception(err):
                raise
            return (err.cause if isinstance(err, ActivityError) else None) or err
        return None
