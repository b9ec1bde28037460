"""Bare Temporal workflows of a permit's shape, for `bench/throughput.py` to compare JFC against.

A parent starts five children, three then two; each child runs one activity (the "submission"), whose
agency answers with a signal a moment later; then the parent runs one activity (the "issue"). Nothing
else: no projections, notifications, search attributes or encryption. Workflow classes live in an
importable module, as the sandbox requires.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client

BARE_PARENT = "BenchBareParent"
BARE_CHILD = "BenchBareChild"
SIGNAL_DECIDED = "decided"
WAVES = (3, 2)
TIMEOUT = timedelta(seconds=30)


class BareActivities:
    """The trivial activities; `submit` has the child signalled after `delay_s`, as an agency's webhook would."""

    def __init__(self, client: Client, delay_s: float) -> None:
        self._client = client
        self._delay_s = delay_s
        self._tasks: set[asyncio.Task[None]] = set()

    @activity.defn(name="bench_submit")
    async def submit(self, agency: str) -> str:
        task = asyncio.create_task(self._answer(activity.info().workflow_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return f"ref-{agency}"

    async def _answer(self, workflow_id: str) -> None:
        await asyncio.sleep(self._delay_s)
        await self._client.get_workflow_handle(workflow_id).signal(SIGNAL_DECIDED, "approved")

    @activity.defn(name="bench_issue")
    async def issue(self, application_id: str) -> str:
        return f"permit-{application_id}"


@workflow.defn(name=BARE_CHILD)
class BareChild:
    def __init__(self) -> None:
        self.decision: str | None = None

    @workflow.signal(name=SIGNAL_DECIDED)
    def decided(self, decision: str) -> None:
        self.decision = decision

    @workflow.run
    async def run(self, agency: str) -> str:
        await workflow.execute_activity("bench_submit", agency, result_type=str, start_to_close_timeout=TIMEOUT)
        await workflow.wait_condition(lambda: self.decision is not None)
        return self.decision or ""


@workflow.defn(name=BARE_PARENT)
class BareParent:
    @workflow.run
    async def run(self, application_id: str) -> str:
        n = 0
        for size in WAVES:
            await asyncio.gather(*(
                workflow.execute_child_workflow(BARE_CHILD, f"agency{n + i}", id=f"{application_id}:agency{n + i}",
                                                result_type=str)
                for i in range(size)
            ))
            n += size
        return await workflow.execute_activity("bench_issue", application_id, result_type=str,
                                               start_to_close_timeout=TIMEOUT)


def child_ids(application_id: str) -> list[str]:
    return [f"{application_id}:agency{i}" for i in range(sum(WAVES))]
