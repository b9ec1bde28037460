"""A workflow that changes its view and sends a notification in the same workflow task, a few times over, and ends
once the read model and the notifications caught up: the shape of every JFC workflow's background work."""

from __future__ import annotations

from pydantic import BaseModel
from temporalio import workflow

from workflows.lane import LocalLane
from workflows.notifier import OFFICER, Notifier
from workflows.projector import Projector

PROBE_RECORD = "probe_record"


class ProbeView(BaseModel):
    seq: int


@workflow.defn
class BackgroundProbe:
    def __init__(self) -> None:
        self.version = 0
        self.lane = LocalLane()  # as the permit and incentive workflows share theirs
        self.notifier = Notifier("PRM-PROBE", None, None, self.lane)
        self.projector = Projector(PROBE_RECORD, lambda: self.version, lambda seq: ProbeView(seq=seq), self.lane)

    @workflow.run
    async def run(self, rounds: int) -> int:
        self.projector.start()
        for n in range(rounds):
            self.version += 1
            self.notifier.send(f"round_{n}", OFFICER)
            await workflow.wait_condition(lambda: self.projector.caught_up() and self.notifier.idle())
        return self.version
