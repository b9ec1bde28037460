"""PostgreSQL stopped mid-run and restarted: the application never waits for it, and the read model loses nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from records_checks import ReadModelWorld, assert_read_model_matches, until_projected

from schemas.decisions import Outcome, Payment
from schemas.status import ApplicationStatus
from store.pool import open_pool
from store.projections import fetch_application
from tests.faults.fault_processes import start_postgres, stop_postgres
from tests.workflows.wf_harness import (
    FEE_TOTAL,
    PARKS,
    agency,
    application,
    first_shoot_in,
    plan,
    running,
)

pytestmark = pytest.mark.xdist_group("pg_restart")


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await open_pool(database_url)
    try:
        yield pool
    finally:
        await pool.close()


async def test_postgres_down_mid_run_loses_nothing(dev_env, task_queue, pg_server, pool):
    the_plan = plan((PARKS, [], [0]), (agency("district", sla_days=3, mode="webhook"), [], [1]))
    world = ReadModelWorld(plan=the_plan, pool=pool)
    app = application(first_shoot_in(-3))  # shot already: completes right after the permit is issued
    async with running(dev_env, task_queue, the_plan, app=app, world=world) as run:
        await run.until(lambda v: bool(v.clearances) and all(c.accepted_at for c in v.clearances), "accepted", timeout=15)
        before = await until_projected(pool, run.handle)

        try:  # started again whatever happens: the later tests share this server
            await asyncio.to_thread(stop_postgres, pg_server)
            with pytest.raises((OSError, asyncpg.PostgresError, asyncpg.InterfaceError)):
                await fetch_application(pool, run.app_id)  # really down
            # the application goes on: both clearances decided, paid, issued, completed, all while the DB is down
            await run.decide("parks", Outcome.approved_with_conditions, conditions=["no vehicles on the lawn"])
            await run.decide("district", Outcome.approved)
            await run.until(lambda v: v.status == ApplicationStatus.awaiting_payment, "awaiting payment", timeout=15)
            await run.handle.signal("payment_received", Payment(
                payment_id="pay-1", permit_id=run.app_id, amount_idr=FEE_TOTAL,
                paid_at=await run.env.get_current_time()))
            done = await run.until(lambda v: v.status == ApplicationStatus.completed, "completed", timeout=15)
            # it has finished its work and only waits for the read model before it closes
            assert (await run.handle.describe()).status.name == "RUNNING"
            assert len(done.timeline) > len(before.timeline)
            await run.eventually(lambda: bool(world.log.events("read_model_unavailable")), "a failed projection")
        finally:
            await asyncio.to_thread(start_postgres, pg_server)

        final = await asyncio.wait_for(run.handle.result(), timeout=90)
        assert final == done
        # a query of the closed workflow rebuilds its view from history: the same times as the live one, to the microsecond
        assert await run.handle.query("status", result_type=type(final)) == final
        view = await until_projected(pool, run.handle, timeout=10)
        assert view == final
        await assert_read_model_matches(pool, final)  # every timeline event present once, audit rows included
        # the outage was logged by application id, with nothing personal in the lines
        for fields in world.log.events("read_model_unavailable"):
            assert set(fields) == {"application_id", "seq", "error"} and fields["application_id"] == run.app_id
        assert world.log.events("application_projected")[-1]["seq"] == max(
            f["seq"] for f in world.log.events("application_projected"))
