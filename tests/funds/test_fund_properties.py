"""A property of the ledger: whatever operations several workers send at once, no balance goes below zero,
`available + reserved + paid = capacity + clawed_back` holds, the balances equal the sums of the entries and of the
holdings, no waiting application would fit, and a replayed key answers what it answered first.

Hypothesis calls the check synchronously; each example runs on one event loop kept in a thread, with one connection
per worker, against funds of its own: a fiscal year no other example used, in a fresh database once years run out.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
from fund_samples import GRANT, REBATE, assert_ledger_adds_up
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from store import funds
from store.pool import open_pool
from tests.databases import new_database

UNIT = 100_000_000
DEFAULT_UNITS = 8
EXAMPLES = 50
WORKERS = 4
FIRST_YEAR, LAST_YEAR = funds.FISCAL_YEARS[0], funds.FISCAL_YEARS[-1]

incentive = st.integers(0, 5)
programme = st.sampled_from([REBATE, GRANT])
units = st.integers(1, 6)
operation = st.one_of(
    st.tuples(st.just("reserve"), incentive, programme, units),
    st.tuples(st.just("reserve"), incentive, programme, units),
    st.tuples(st.just("release"), incentive, st.none() | units),
    st.tuples(st.just("pay"), incentive, st.integers(1, 3)),
    st.tuples(st.just("clawback"), incentive, st.integers(1, 2)),
    st.tuples(st.just("capacity"), programme, st.integers(0, 16)),
    st.tuples(st.just("replay"), st.integers(0, 20)),
)
plans = st.lists(st.lists(operation, min_size=1, max_size=15), min_size=2, max_size=WORKERS)  # one list per worker
# Always run once: w0 alone decides every outcome of its fund (w1 works in the other one).
EVERY_OUTCOME = [
    [("capacity", REBATE, 4), ("reserve", 0, REBATE, 4), ("reserve", 1, REBATE, 3), ("pay", 0, 2),
     ("clawback", 0, 1), ("release", 0, None), ("pay", 5, 1), ("replay", 3)],
    [("reserve", 2, GRANT, 1), ("pay", 2, 1), ("replay", 0)],
]


def test_concurrent_random_operations_keep_the_ledger_whole(pg_server):
    tallies: list[Counter] = []
    ledgers = Ledgers(pg_server)

    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(plans)
    @example(EVERY_OUTCOME)
    def check(plan: list[list[tuple]]) -> None:
        tallies.append(run_soon(run(ledgers, plan)))

    with event_loop_thread() as run_soon:
        try:
            check()
        finally:
            run_soon(ledgers.close())

    assert len(tallies) >= EXAMPLES, "hypothesis ran fewer examples than asked"
    total = sum(tallies, Counter())
    for outcome in ("reserved", "waitlisted", "promoted", "pay", "clawback", "capacity", "refused", "replayed"):
        assert total[outcome], f"no example exercised {outcome}: {dict(total)}"


@dataclass
class Ledger:
    pool: asyncpg.Pool
    year: int

    def incentive(self, n: int) -> str:
        return f"INC-{self.year}-{n}"


class Ledgers:
    """Funds nobody used yet: the next fiscal year of the current database, or a fresh database."""

    def __init__(self, pg_server: Any) -> None:
        self._server, self._pool, self._year = pg_server, None, LAST_YEAR

    async def next(self) -> Ledger:
        if self._pool is None or self._year == LAST_YEAR:
            await self.close()
            self._pool = await open_pool(await new_database(self._server), min_size=WORKERS, max_size=WORKERS)
            self._year = FIRST_YEAR - 1
        self._year += 1
        return Ledger(self._pool, self._year)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


@contextmanager
def event_loop_thread() -> Iterator[Any]:
    """A function that runs a coroutine to its end on an event loop of its own thread."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run_soon(coro: Coroutine) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    try:
        yield run_soon
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


async def run(ledgers: Ledgers, plan: list[list[tuple]]) -> Counter:
    ledger = await ledgers.next()
    tally: Counter = Counter()
    await asyncio.gather(*(worker(ledger, f"w{n}", ops, tally) for n, ops in enumerate(plan)))
    await assert_ledger_adds_up(ledger.pool, ledger.year)
    fits = await ledger.pool.fetch(
        "SELECT h.incentive_id FROM fund_holdings h JOIN funds f USING (fiscal_year, programme) "
        "WHERE f.fiscal_year = $1 AND h.state = 'waitlisted' "
        "AND h.requested_idr <= f.capacity_idr + f.clawed_back_idr - f.reserved_idr - f.paid_idr", ledger.year)
    assert not fits, f"waiting though they fit: {[r['incentive_id'] for r in fits]}"
    return tally


async def worker(ledger: Ledger, name: str, ops: list[tuple], tally: Counter) -> None:
    done: list[tuple[str, tuple, Any]] = []
    for n, op in enumerate(ops):
        if op[0] == "replay":
            if done:
                key, first, answer = done[op[1] % len(done)]
                assert await apply(ledger, first, key) == answer, f"{key} answered differently on a replay"
                tally["replayed"] += 1
            continue
        key = f"{ledger.year}:{name}:{n}"
        try:
            answer = await apply(ledger, op, key)
        except funds.FundError:  # CapacityTooLow included; anything else fails the test
            tally["refused"] += 1
            continue
        done.append((key, op, answer))
        tally[answer.state if op[0] == "reserve" else op[0]] += 1
        if isinstance(answer, tuple):
            tally["promoted"] += len(answer[1])


async def apply(ledger: Ledger, op: tuple, key: str) -> Any:
    kind, pool, who = op[0], ledger.pool, {"key": key, "actor": "system", "reason": f"property test {op[0]}"}
    if kind == "reserve":
        _, n, code, amount = op
        return await funds.reserve(pool, ledger.year, code, ledger.incentive(n), amount * UNIT, **who,
                                   default_capacity_idr=DEFAULT_UNITS * UNIT)
    if kind == "capacity":
        _, code, amount = op
        return await funds.set_capacity(pool, ledger.year, code, amount * UNIT, **who,
                                        default_capacity_idr=DEFAULT_UNITS * UNIT)
    _, n, amount = op
    amount = None if amount is None else amount * UNIT
    if kind == "release":
        return await funds.release(pool, ledger.incentive(n), amount, **who)
    if kind == "pay":
        return await funds.pay(pool, ledger.incentive(n), amount, **who)
    return await funds.clawback(pool, ledger.incentive(n), amount, **who)
