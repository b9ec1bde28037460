"""A workflow runs its local activities one at a time (workflows/lane.py): with two in flight, a replay of its
history can schedule them in another order than the live run did and fail as nondeterministic."""

from __future__ import annotations

import asyncio
import collections
import uuid
from dataclasses import dataclass, field

from local_lane_probe import PROBE_RECORD, BackgroundProbe, ProbeView
from temporalio import activity
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, Worker
from wf_harness import DISTRICT, FEE_TOTAL, PARKS, WORKFLOWS, FakeWorld, plan, running

from schemas.contracts import NOTIFY, RECORD_APPLICATION, Notifications, ProjectionInput
from schemas.decisions import Outcome
from schemas.status import ApplicationStatus
from workers.sandbox import workflow_runner

HOLD = 0.05  # seconds each local activity takes: long enough for a second one to start meanwhile, if it may


class InFlight:
    """How many local activities each workflow has running, and the most it ever had."""

    def __init__(self) -> None:
        self.now: collections.Counter[str] = collections.Counter()
        self.most: collections.Counter[str] = collections.Counter()

    async def hold(self) -> None:
        workflow_id = activity.info().workflow_id
        self.now[workflow_id] += 1
        self.most[workflow_id] = max(self.most[workflow_id], self.now[workflow_id])
        try:
            await asyncio.sleep(HOLD)
        finally:
            self.now[workflow_id] -= 1


@dataclass
class SlowLocalWorld(FakeWorld):
    """The fakes, with notifications and projections that take a moment each."""

    in_flight: InFlight = field(default_factory=InFlight)

    @activity.defn(name=NOTIFY)
    async def notify(self, input: Notifications) -> None:
        await self.in_flight.hold()
        await FakeWorld.notify(self, input)

    @activity.defn(name=RECORD_APPLICATION)
    async def record(self, input: ProjectionInput) -> bool:
        await self.in_flight.hold()
        return await FakeWorld.record(self, input)


async def replay(history, workflows) -> None:
    replayer = Replayer(workflows=workflows, data_converter=pydantic_data_converter,
                        workflow_runner=workflow_runner(workflows))
    await replayer.replay_workflow(history, raise_on_replay_failure=True)


async def test_a_permit_never_runs_two_local_activities_at_once_and_its_history_replays(time_env, task_queue):
    the_plan = plan((PARKS, [], [0]), (DISTRICT, [], [1]))
    world = SlowLocalWorld(plan=the_plan)
    async with running(time_env, task_queue, the_plan, world=world) as run:
        await run.until(lambda v: bool(v.clearances) and all(c.accepted_at for c in v.clearances), "both accepted")
        await run.decide("parks", Outcome.approved)
        await run.decide("district", Outcome.approved)
        await run.until(lambda v: v.status == ApplicationStatus.awaiting_payment, "awaiting payment")
        await run.pay(FEE_TOTAL)
        await run.until(lambda v: v.status == ApplicationStatus.issued, "issued")
        await run.handle.cancel()  # no need to wait for the last shoot day
        history = await run.handle.fetch_history()
    kinds = {n.kind for n in world.notifications}
    assert {"payment_due", "permit_issued"} <= kinds and world.projected(run.app_id) is not None
    assert world.in_flight.most[run.app_id] == 1
    await replay(history, WORKFLOWS)


class WaitingForEachOther:
    """A notification that finishes only after the projection scheduled after it, unless that never starts."""

    def __init__(self) -> None:
        self.in_flight = InFlight()
        self.projected = asyncio.Event()

    @activity.defn(name=NOTIFY)
    async def notify(self, input: Notifications) -> None:
        await self.in_flight.hold()
        try:
            await asyncio.wait_for(self.projected.wait(), 0.3)
        except TimeoutError:
            pass  # the projection waits for this one to finish
        self.projected.clear()

    @activity.defn(name=PROBE_RECORD)
    async def record(self, input: ProbeView) -> bool:
        await self.in_flight.hold()
        self.projected.set()
        return True


async def test_notifications_and_projections_of_one_workflow_take_turns(time_env, task_queue):
    world = WaitingForEachOther()
    async with Worker(time_env.client, task_queue=task_queue, workflows=[BackgroundProbe],
                      activities=[world.notify, world.record], workflow_runner=workflow_runner([BackgroundProbe])):
        handle = await time_env.client.start_workflow(
            BackgroundProbe.run, 3, id=f"probe-{uuid.uuid4()}", task_queue=task_queue)
        assert await handle.result() == 3
        history = await handle.fetch_history()
    assert world.in_flight.most[handle.id] == 1
    await replay(history, [BackgroundProbe])
