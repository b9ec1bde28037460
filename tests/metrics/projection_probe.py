"""A workflow whose one activity notes a projection refused for good, as activities/records.py does."""

from __future__ import annotations

import datetime as dt

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    import asyncpg
    import structlog

    from activities.records import refused_for_good


class RefusingProjection:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @activity.defn(name="probe_refused_projection")
    async def refuse(self, workflow_id: str) -> str:
        error = await refused_for_good(self.pool, workflow_id, 1, ValueError("a NUL in a title"),
                                       structlog.get_logger(__name__))
        return error.message


@workflow.defn(name="ProjectionProbeWorkflow")
class ProjectionProbeWorkflow:
    @workflow.run
    async def run(self) -> str:
        return await workflow.execute_activity("probe_refused_projection", workflow.info().workflow_id,
                                               start_to_close_timeout=dt.timedelta(seconds=10))
