"""The workers apply every job of an activation before any workflow coroutine runs (workers/logic_flags.py)."""

from __future__ import annotations

import asyncio
import uuid

from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, Worker

from tests.activation_probe import PROBE_ACTIVITY, ActivationProbe
from workers.logic_flags import SINGLE_BATCH, with_single_batch_activations


async def run_probe(client, single_batch: bool) -> tuple[bool, object]:
    """Run the probe so that its activity result and its signal reach it in one workflow task."""
    queue, activity_queue = f"probe-{uuid.uuid4()}", f"probe-act-{uuid.uuid4()}"
    release, started = asyncio.Event(), asyncio.Event()

    @activity.defn(name=PROBE_ACTIVITY)
    async def probe_activity() -> str:
        started.set()
        await release.wait()
        return "done"

    def workflow_worker() -> Worker:
        worker = Worker(client, task_queue=queue, workflows=[ActivationProbe], max_cached_workflows=0)
        return with_single_batch_activations(worker) if single_batch else worker

    async with Worker(client, task_queue=activity_queue, activities=[probe_activity]):
        async with workflow_worker():
            handle = await client.start_workflow(ActivationProbe.run, activity_queue, id=f"probe-{uuid.uuid4()}",
                                                 task_queue=queue)
            await asyncio.wait_for(started.wait(), 10)
        # No workflow worker now: the activity's result and the signal wait in one workflow task.
        release.set()
        await _history_until(handle, EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
        await handle.signal(ActivationProbe.poke)
        async with workflow_worker():
            seen = await handle.result()
    return seen, await handle.fetch_history()


async def _history_until(handle, event_type) -> None:
    for _ in range(200):
        if any(e.event_type == event_type for e in (await handle.fetch_history()).events):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {EventType.Name(event_type)} in the history")


async def test_a_signal_sees_the_activity_result_of_the_same_workflow_task_and_the_history_says_so(dev_env):
    seen, history = await run_probe(dev_env.client, single_batch=True)
    assert seen is True
    used = {flag for e in history.events if e.HasField("workflow_task_completed_event_attributes")
            for flag in e.workflow_task_completed_event_attributes.sdk_metadata.lang_used_flags}
    assert SINGLE_BATCH in used
    # a replay follows the flag the history records, whatever the replayer's own default
    replayer = Replayer(workflows=[ActivationProbe], data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history, raise_on_replay_failure=True)


async def test_without_the_flag_the_signal_runs_before_the_activity_result_is_applied(dev_env):
    """What the flag changes (and what the test above would not notice without it)."""
    seen, _ = await run_probe(dev_env.client, single_batch=False)
    assert seen is False
