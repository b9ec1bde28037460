"""A stand-in for an incentive linked to a permit: it records what the permit tells it.

In a module of its own, importing as little as possible: the workflow sandbox imports it again.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.contracts import INCENTIVE_WORKFLOW, SIGNAL_PERMIT_EVENT
    from schemas.incentive_contracts import PermitEvent


@workflow.defn(name=INCENTIVE_WORKFLOW)
class StandInIncentive:
    def __init__(self) -> None:
        self.events: list[PermitEvent] = []

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.signal(name=SIGNAL_PERMIT_EVENT)
    def told(self, event: PermitEvent) -> None:
        self.events.append(event)

    @workflow.query(name="events")
    def what_it_was_told(self) -> list[PermitEvent]:
        return self.events
