"""A stand-in for the permit an incentive links to: it only records the incentives that linked.

In a module of its own, importing as little as possible: the workflow sandbox imports it again.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.contracts import PERMIT_WORKFLOW, SIGNAL_INCENTIVE_LINKED
    from schemas.incentive_contracts import IncentiveLink


@workflow.defn(name=PERMIT_WORKFLOW)
class StandInPermit:
    """The linked permit: it only records the incentives that linked."""

    def __init__(self) -> None:
        self.links: list[str] = []

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.signal(name=SIGNAL_INCENTIVE_LINKED)
    def linked(self, link: IncentiveLink) -> None:
        self.links.append(link.incentive_id)

    @workflow.query(name="links")
    def linked_ids(self) -> list[str]:
        return self.links
