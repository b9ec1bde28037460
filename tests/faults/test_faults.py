"""Fault injection (issue 10): applications carry on through killed workers, a second worker killed, an agency down,
lost answers from an agency and the treasury, Temporal and PostgreSQL stopped and started again; afterwards nothing is
lost, nothing is done twice, the read model matches every workflow, the funds add up and the audit chain verifies.

Short by default (a few applications, each fault once); `--faults-full` or JFC_FAULTS_FULL=1 for the full script.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import asyncpg
import pytest

from schemas.contracts import QUERY_STATUS
from schemas.incentives import IncentiveStatusView
from schemas.status import PermitStatusView
from store import audit
from store.accounts import create_account
from store.incentive_projections import fetch_incentive
from store.pool import open_pool
from store.projections import fetch_application
from tests.faults.fault_processes import Postgres, Product
from tests.faults.fault_scenario import FULL, SHORT, Counts, Driver, Faults
from tests.funds.fund_samples import assert_ledger_adds_up
from workers.temporal import connect

pytestmark = pytest.mark.xdist_group("faults")


@pytest.fixture
def product(tmp_path: Path):
    # PostgreSQL runs as its own system user: its folder lives outside pytest's private (0700) temporary root
    pg_root = Path(tempfile.mkdtemp(prefix="jfc-faults-pg-"))
    postgres = Postgres(pg_root / "data")
    product = Product(tmp_path, postgres.url)
    try:
        product.start_temporal()
        product.start_simulator()
        product.start_api()
        product.start_worker("worker-a")
        yield product, postgres
    finally:
        product.stop_all()
        postgres.cleanup()
        shutil.rmtree(pg_root, ignore_errors=True)


async def test_applications_survive_every_fault(product, faults_full: bool) -> None:
    product, postgres = product
    plan = FULL if faults_full else SHORT
    started = time.monotonic()
    pool = await open_pool(postgres.url)
    _, applicant = await create_account(pool, name="Sari", role="applicant", organisation="PT Contoh Film")
    _, officer = await create_account(pool, name="Officer Ani", role="officer")
    await pool.close()  # PostgreSQL is stopped in the middle of the run

    counts = Counts()
    faults = Faults(product, postgres, plan, counts)
    await faults.agencies_misbehave()
    driver = Driver(product, applicant, officer, counts)
    try:
        script = asyncio.create_task(faults.run())
        await driver.submit_all(plan)
        await driver.run_until_done(timeout=900 if faults_full else 300)  # a SIGKILL can cut off a 2-minute activity
        await script
        requests, payments = await check_everything(product, postgres, driver)
    finally:
        await driver.close()
    print(f"\nfaults: applications={len(driver.permits) + len(driver.incentives)} (permits={len(driver.permits)}, "
          f"incentives={len(driver.incentives)}) {counts.line()} agency_requests={requests} "
          f"treasury_payments={payments} seconds={time.monotonic() - started:.0f}")


async def check_everything(product: Product, postgres: Postgres, driver: Driver) -> tuple[int, int]:
    client = await connect(product.settings)
    pool = await open_pool(postgres.url)
    try:
        permits = {i: await client.get_workflow_handle(i).query(QUERY_STATUS, result_type=PermitStatusView)
                   for i in driver.permits}
        incentives = {i: await client.get_workflow_handle(i).query(QUERY_STATUS, result_type=IncentiveStatusView)
                      for i in driver.incentives}
        assert {v.status.value for v in permits.values()} == {"issued"}

        # every projection matches its workflow (the read model follows a moment later)
        for permit_id, wanted in permits.items():
            await until_equal(lambda i=permit_id: fetch_application(pool, i), wanted)
        for incentive_id, wanted in incentives.items():
            await until_equal(lambda i=incentive_id: fetch_incentive(pool, i), wanted)

        # one held request per clearance, none twice
        requests = 0
        for code in {c.agency for v in permits.values() for c in v.clearances}:
            held = (await driver.http.get(f"{product.sim}/admin/agencies/{code}/requests")).json()
            keys = [r["idempotency_key"] for r in held]
            assert len(keys) == len(set(keys)), (code, keys)
            per_app = defaultdict(list)
            for r in held:
                per_app[r["idempotency_key"].split(":")[0]].append(r)
            for permit_id, view in permits.items():
                clearances = [c for c in view.clearances if c.agency == code]
                ours = per_app.get(permit_id, [])
                assert len(ours) == len(clearances), (permit_id, code, ours, clearances)
                assert sorted(r["reference"] for r in ours) == sorted(c.reference for c in clearances)
            requests += len(held)

        # one treasury payment per paid tranche, with the reference the incentive holds
        paid = (await driver.http.get(f"{product.sim}/admin/agencies/treasury/requests")).json()
        keys = [p["idempotency_key"] for p in paid]
        assert len(keys) == len(set(keys)), keys
        by_key = {p["idempotency_key"]: p for p in paid}
        expected = {f"{i}:tranche:{t.n}": t for i, v in incentives.items() for t in v.tranches if t.status == "paid"}
        assert set(by_key) == set(expected), (sorted(by_key), sorted(expected))
        assert all(by_key[k]["reference"] == t.reference for k, t in expected.items())

        # one payment per paid permit, taken (a redelivered one counts once, by its payment_id)
        taken = {r["application_id"]: (r["n"], r["outcomes"]) for r in await pool.fetch(
            "SELECT application_id, count(*) AS n, array_agg(outcome) AS outcomes FROM payments GROUP BY 1")}
        assert taken == {i: (1, ["matched"]) for i in driver.paid}, taken

        await assert_ledger_adds_up(pool)  # the fund invariant, the entries' audit rows, the audit chain
        verified = await audit.verify(pool)
        assert verified.ok, verified
        return requests, len(paid)
    finally:
        await pool.close()


async def until_equal(fetch, wanted, forgive: set[str] = frozenset(), timeout: float = 30.0) -> None:
    """Wait until the read model's view (`fetch()`) equals the workflow's, bar the fields in `forgive`."""
    give_up = asyncio.get_running_loop().time() + timeout
    blank = dict.fromkeys(forgive)
    while True:
        try:
            stored = await fetch()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            stored = None
        if stored is not None and stored.model_copy(update=blank) == wanted.model_copy(update=blank):
            return
        if asyncio.get_running_loop().time() > give_up:
            assert stored is not None, f"{wanted.id}: not in the read model"
            assert stored.status == wanted.status, (wanted.id, stored.status, wanted.status)
            differ = {k: (v, getattr(wanted, k)) for k, v in stored if k not in forgive and v != getattr(wanted, k)}
            raise AssertionError(f"{wanted.id}: the read model differs from the workflow (read model, workflow): "
                                 f"{differ}")
        await asyncio.sleep(0.2)
