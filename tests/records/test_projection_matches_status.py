"""Projections after a workflow run match the workflow's own status query, field by field (real PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import asyncpg
import pytest
from records_checks import ReadModelWorld, assert_read_model_matches, until_projected

from domain import calendar
from schemas.decisions import Outcome, Payment
from schemas.status import ApplicationStatus, ClearanceStatus, SlaState
from store.pool import open_pool
from tests.workflows.wf_harness import (
    FEE_TOTAL,
    PARKS,
    Run,
    agency,
    application,
    first_shoot_in,
    plan,
    running,
)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await open_pool(database_url)
    try:
        yield pool
    finally:
        await pool.close()


async def pay(run: Run) -> None:
    await run.handle.signal("payment_received", Payment(
        payment_id="pay-1", permit_id=run.app_id, amount_idr=FEE_TOTAL, paid_at=await run.env.get_current_time()))


async def test_issued_application_on_the_dev_server_matches_its_status(dev_env, task_queue, pool):
    the_plan = plan((PARKS, [], [0]), (agency("district", sla_days=3, mode="webhook"), [], [1]))
    world = ReadModelWorld(plan=the_plan, pool=pool)
    async with running(dev_env, task_queue, the_plan, app=application(first_shoot_in(30)), world=world) as run:
        await run.until(lambda v: bool(v.clearances) and all(c.accepted_at for c in v.clearances), "accepted", timeout=15)
        await assert_read_model_matches(pool, await until_projected(pool, run.handle))  # mid-run as well

        await run.decide("parks", Outcome.approved_with_conditions, conditions=["no vehicles on the lawn"])
        await run.decide("district", Outcome.approved)
        await run.until(lambda v: v.status == ApplicationStatus.awaiting_payment, "awaiting payment", timeout=15)
        await pay(run)
        await run.until(lambda v: v.status == ApplicationStatus.issued, "issued", timeout=15)
        view = await until_projected(pool, run.handle)
        assert view.status == ApplicationStatus.issued and view.permit is not None
        await assert_read_model_matches(pool, view)
        assert {c.status for c in view.clearances} == {ClearanceStatus.approved, ClearanceStatus.approved_with_conditions}
        await run.handle.terminate("test done: the permit would complete after the shoot days")


async def test_reminder_breach_outage_and_deemed_approval_reach_the_read_model(time_env, task_queue, pool):
    """The columns a quick approval leaves empty: reminded_at, breached_at, outage episodes, turnaround."""
    start = await time_env.get_current_time()
    the_plan = plan((PARKS, [], [0]))
    world = ReadModelWorld(plan=the_plan, pool=pool)
    world.outage_until["parks"] = start + dt.timedelta(hours=2)
    world.retry_after["parks"] = dt.timedelta(minutes=20)
    async with running(time_env, task_queue, the_plan, app=application(first_shoot_in(60)), world=world) as run:
        await run.skip_to(start + dt.timedelta(hours=3))
        view = await run.accepted("parks")
        d = calendar.sla_deadlines(run.clearance(view, "parks").accepted_at, 5, 5)
        await run.skip_to(d.final_at + dt.timedelta(minutes=1))  # reminder, breach, then silence is consent
        await run.until(lambda v: v.status == ApplicationStatus.awaiting_payment, "deemed approved")
        await pay(run)
        final = await run.handle.result()  # waits for its last projection before it completes
        assert final.status == ApplicationStatus.completed
        parks = run.clearance(final, "parks")
        assert parks.status == ClearanceStatus.deemed_approved and parks.sla == SlaState.breached
        assert parks.reminded_at and parks.breached_at and parks.outages and parks.outages[0].recovered_at
        await assert_read_model_matches(pool, final)
