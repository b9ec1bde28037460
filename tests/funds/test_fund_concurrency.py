"""Many workers at once: the fund's row lock makes them first come, first served, and nothing is reserved twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from fund_samples import REBATE, YEAR, assert_ledger_adds_up

from store import funds
from store.pool import open_pool

AMOUNT = 200_000_000
FITS = 50
APPLICATIONS = 200


@pytest.fixture
async def wide_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    db = await open_pool(database_url, max_size=20)
    try:
        yield db
    finally:
        await db.close()


async def test_200_reservations_at_once_against_room_for_50(wide_pool: asyncpg.Pool):
    await funds.set_capacity(wide_pool, YEAR, REBATE, FITS * AMOUNT, key="cap", actor="officer:OFF-ANI",
                             reason="budget", default_capacity_idr=0)

    async def one(n: int) -> funds.Reservation:
        return await funds.reserve(wide_pool, YEAR, REBATE, f"INC-{n:03}", AMOUNT, key=f"reserve:{n}",
                                   actor="system", reason="grant tier", default_capacity_idr=0)

    # every application twice at once, under its one key: the replay gives the same answer
    answers = await asyncio.gather(*(one(n) for n in range(APPLICATIONS) for _ in range(2)))

    assert answers[0::2] == answers[1::2]
    states = [a.state for a in answers[0::2]]
    assert (states.count("reserved"), states.count("waitlisted")) == (FITS, APPLICATIONS - FITS)
    assert sorted(a.position for a in answers[0::2] if a.position) == list(range(1, APPLICATIONS - FITS + 1))

    holdings = await wide_pool.fetch("SELECT incentive_id, state, arrival FROM fund_holdings ORDER BY arrival")
    assert len(holdings) == APPLICATIONS
    # the first 50 to reach the fund hold the money; the other 150 wait in the order they reached it
    assert [h["state"] for h in holdings] == ["reserved"] * FITS + ["waitlisted"] * (APPLICATIONS - FITS)
    waiting = [h["incentive_id"] for h in holdings[FITS:]]
    for incentive_id, place in ((waiting[0], 1), (waiting[-1], APPLICATIONS - FITS)):
        assert (await funds.position(wide_pool, incentive_id)).position == place
    view = (await funds.fund_view(wide_pool, YEAR, lambda _: 0)).programmes[0]
    assert (view.reserved_idr, view.available_idr, view.waitlisted) == (FITS * AMOUNT, 0, APPLICATIONS - FITS)

    released, promotions = await funds.release(wide_pool, holdings[7]["incentive_id"], key="release", actor="system",
                                               reason="withdrawn")

    assert released == AMOUNT
    assert [p.incentive_id for p in promotions] == [waiting[0]]
    assert (await funds.position(wide_pool, waiting[1])).position == 1
    await assert_ledger_adds_up(wide_pool)


async def test_concurrent_releases_promote_each_waiting_application_once(wide_pool: asyncpg.Pool):
    await funds.set_capacity(wide_pool, YEAR, REBATE, 20 * AMOUNT, key="cap", actor="officer:OFF-ANI",
                             reason="budget", default_capacity_idr=0)
    for n in range(40):
        await funds.reserve(wide_pool, YEAR, REBATE, f"INC-{n:03}", AMOUNT, key=f"reserve:{n}", actor="system",
                            reason="grant tier", default_capacity_idr=0)

    results = await asyncio.gather(*(
        funds.release(wide_pool, f"INC-{n:03}", key=f"release:{n}", actor="system", reason="withdrawn")
        for n in range(20)))

    promoted = [p.incentive_id for _, ps in results for p in ps]
    assert sorted(promoted) == [f"INC-{n:03}" for n in range(20, 40)]
    view = (await funds.fund_view(wide_pool, YEAR, lambda _: 0)).programmes[0]
    assert (view.reserved_idr, view.available_idr, view.waitlisted) == (20 * AMOUNT, 0, 0)
    await assert_ledger_adds_up(wide_pool)
