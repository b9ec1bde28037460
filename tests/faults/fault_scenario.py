"""One scripted run of many applications while faults are injected, and the checks made after it.

`Driver` plays the people (applicants submit and apply, the bank pays, an officer grants expedites) and keeps doing so
through every outage; `Faults` plays the script against the processes of `tests/faults/fault_processes.py`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from cli.demo import demo_applications
from domain.jakarta import jakarta_date
from tests.faults.fault_processes import Postgres, Product

FAST_AGENCIES = ("parks", "heritage", "district", "transport", "police", "fire", "aviation", "transit",
                 "culture_ministry")
DOWN_AGENCY = "parks"  # an outage for a stretch
LOSSY_AGENCY = "police"  # answers lost
TRANSIENT = (httpx.HTTPError, ValueError)


def first_feasible_day(weeks: int = 8) -> dt.date:
    """A shoot date comfortably past every lead time."""
    return dt.date.today() + dt.timedelta(weeks=weeks)


def studio_shoot(first: dt.date, days: int = 8) -> dict[str, Any]:
    """A shoot at a private studio from `first` (no agency to ask; expedited by an officer when it starts today)."""
    dates = [{"date": (first + dt.timedelta(days=i)).isoformat(), "start": "07:00", "end": "19:00"} for i in range(days)]
    return {
        "applicant": {"company": "PT Contoh Film", "country": "ID", "contact_name": "Sari", "email": "sari@contoh.id",
                      "phone": "+62 812 0000 0000"},
        "production": {"title": "Anak Kota", "kind": "feature_film", "synopsis": "A first feature."},
        "locations": [{"name": "Studio Persari", "kind": "private_property", "address": "Jl. Raya Pasar Minggu",
                       "city": "Jakarta Selatan", "lat": -6.2842, "lon": 106.8446, "days": dates, "crew_size": 30,
                       "vehicles": 2, "road_use": "none", "drone": False, "pyrotechnics": False,
                       "prop_weapons": False}],
        "insurance": {"insurer": "PT Asuransi", "policy_number": "P-9", "coverage_idr": 5_000_000_000,
                      "valid_until": (first + dt.timedelta(days=60)).isoformat()},
        "expedite": {"requested": True, "reason": "the studio fell free this week"},
    }


@dataclass
class Plan:
    permits: int  # permits routed to agencies (sets of the demo's three shoots)
    studios: int  # studio permits, each with a location rebate and a shooting-days grant
    worker_kills: int
    outage_seconds: float
    lost_rate: float
    pause_seconds: float  # between two faults


SHORT = Plan(permits=3, studios=1, worker_kills=1, outage_seconds=6, lost_rate=0.3, pause_seconds=2)
FULL = Plan(permits=24, studios=6, worker_kills=2, outage_seconds=20, lost_rate=0.4, pause_seconds=6)


@dataclass
class Counts:
    kills: Counter = field(default_factory=Counter)
    restarts: Counter = field(default_factory=Counter)
    bank_payments: int = 0
    bank_payments_refused: int = 0

    def line(self) -> str:
        return (f"kills={dict(self.kills)} restarts={dict(self.restarts)} bank_payments={self.bank_payments} "
                f"(not taken at once: {self.bank_payments_refused})")


class Driver:
    """Submits every application, then moves each one on whenever it waits for a person, until all are done."""

    def __init__(self, product: Product, applicant: str, officer: str, counts: Counts) -> None:
        self.product = product
        self.http = httpx.AsyncClient(timeout=10.0, headers={"Authorization": f"Bearer {applicant}"})
        self.officer = {"Authorization": f"Bearer {officer}"}
        self.counts = counts
        self.permits: dict[str, str] = {}  # id -> "agencies" | "studio"
        self.views: dict[str, dict[str, Any]] = {}
        self.paid: set[str] = set()
        self.incentives: dict[str, str] = {}  # id -> programme
        self.incentive_views: dict[str, dict[str, Any]] = {}
        self.applied: set[str] = set()  # studio permits whose incentives were applied for

    async def close(self) -> None:
        await self.http.aclose()

    async def submit_all(self, plan: Plan) -> None:
        first = first_feasible_day()
        bodies = [(body, "agencies") for _ in range(plan.permits // 3 + 1) for body in demo_applications(first)]
        bodies = bodies[: plan.permits]
        today = jakarta_date(dt.datetime.now(dt.UTC))
        studio = studio_shoot(today)  # eight shoot days from today: the grant's first tier, the rebate's first tranche
        bodies += [(studio, "studio")] * plan.studios
        for n, (body, kind) in enumerate(bodies):
            response = await self.post(f"{self.product.api}/v1/permits", body, key=f"faults-permit-{n}")
            self.permits[response["id"]] = kind

    async def post(self, url: str, body: dict, *, key: str, headers: dict | None = None,
                   ok: tuple[int, ...] = (200, 202)) -> dict:
        """POST with a stable Idempotency-Key, again and again until it is taken (the API may be without Temporal or
        PostgreSQL for a while)."""
        give_up = time.monotonic() + 120
        while True:
            try:
                response = await self.http.post(url, json=body, headers={**(headers or {}), "Idempotency-Key": key})
                if response.status_code in ok:
                    return response.json()
                assert response.status_code >= 500 or response.status_code == 409, (url, response.text)
            except TRANSIENT:
                pass
            assert time.monotonic() < give_up, f"{url} not taken in 120 s"
            await asyncio.sleep(0.5)

    async def get(self, path: str) -> dict | None:
        try:
            response = await self.http.get(f"{self.product.api}{path}")
            return response.json() if response.status_code == 200 else None
        except TRANSIENT:
            return None

    def done(self) -> bool:
        permits = all(v.get("status") == "issued" for v in (self.views.get(i, {}) for i in self.permits))
        incentives = len(self.incentives) == 2 * sum(k == "studio" for k in self.permits.values()) and all(
            incentive_done(self.incentive_views.get(i, {})) for i in self.incentives)
        return permits and incentives

    async def step(self) -> None:
        for permit_id, kind in self.permits.items():
            view = await self.get(f"/v1/permits/{permit_id}")
            if view is None:
                continue
            self.views[permit_id] = view
            if view["status"] == "awaiting_payment" and permit_id not in self.paid:
                await self.pay(permit_id, view["fees"]["total_idr"])
            if view.get("awaiting_expedite"):
                await self.post(f"{self.product.api}/v1/officer/permits/{permit_id}/decisions",
                                {"kind": "expedite", "outcome": "approved", "reason": "studio shoot"},
                                key=f"expedite-{permit_id}", headers=self.officer)
            if kind == "studio" and view["status"] == "issued" and permit_id not in self.applied:
                await self.apply_for_incentives(permit_id)
        for incentive_id in self.incentives:
            view = await self.get(f"/v1/incentives/{incentive_id}")
            if view is not None:
                self.incentive_views[incentive_id] = view

    async def pay(self, permit_id: str, amount: int) -> None:
        """Pay once, as the bank; a payment the API did not take at once (it was down) the bank delivers again."""
        try:
            response = await self.http.post(f"{self.product.sim}/admin/payments",
                                             json={"permit_id": permit_id, "amount_idr": amount})
        except TRANSIENT:
            return
        if response.status_code != 200:
            return
        self.counts.bank_payments += 1
        self.paid.add(permit_id)
        if response.json()["api_status"] != 202:
            self.counts.bank_payments_refused += 1

    async def apply_for_incentives(self, permit_id: str) -> None:
        year = jakarta_date(dt.datetime.now(dt.UTC)).year
        money = {"permit_id": permit_id, "fiscal_year": year, "planned_jakarta_spend_idr": 8_000_000_000,
                 "planned_post_production_idr": 1_000_000_000, "crew_total": 30, "crew_indonesian": 27}
        for programme in ("location_rebate", "shooting_days_grant"):
            applied = await self.post(f"{self.product.api}/v1/incentives", {**money, "programme": programme},
                                      key=f"faults-{programme}-{permit_id}")
            self.incentives[applied["id"]] = programme
        self.applied.add(permit_id)

    async def run_until_done(self, timeout: float) -> None:
        give_up = time.monotonic() + timeout
        while not self.done():
            await self.step()
            if time.monotonic() > give_up:
                views = {**{i: self.views.get(i, {}) for i in self.permits},
                         **{i: self.incentive_views.get(i, {}) for i in self.incentives}}
                stuck = {i: v.get("status") for i, v in views.items()
                         if not (v.get("status") == "issued" or incentive_done(v))}
                raise AssertionError(f"not done in {timeout:.0f} s; still open: {stuck}")
            await asyncio.sleep(0.5)


def incentive_done(view: dict[str, Any]) -> bool:
    """A location rebate with its first tranche paid; a shooting-days grant with its money reserved."""
    if view.get("programme") == "location_rebate":
        return bool(view["tranches"]) and view["tranches"][0]["status"] == "paid"
    if view.get("programme") == "shooting_days_grant":
        return view["reserved_idr"] > 0 and view["status"] in ("reserved", "awaiting_photography")
    return False


class Faults:
    """The fault script, run beside the driver."""

    def __init__(self, product: Product, postgres: Postgres, plan: Plan, counts: Counts) -> None:
        self.product, self.postgres, self.plan, self.counts = product, postgres, plan, counts
        self.http = httpx.AsyncClient(timeout=10.0)

    async def behave(self, code: str, **behaviour: Any) -> None:
        (await self.http.put(f"{self.product.sim}/admin/agencies/{code}", json=behaviour)).raise_for_status()

    async def agencies_misbehave(self) -> None:
        for code in FAST_AGENCIES:
            await self.behave(code, decision="approve", decision_delay_ms=300)
        await self.behave("audit", decision="approve", decision_delay_ms=300)
        outage = await self.http.post(f"{self.product.sim}/admin/agencies/{DOWN_AGENCY}/outage",
                                      json={"seconds": self.plan.outage_seconds})
        outage.raise_for_status()
        await self.behave(LOSSY_AGENCY, lost_response_rate=self.plan.lost_rate)
        await self.behave("treasury", lost_response_rate=self.plan.lost_rate)

    async def agencies_recover(self) -> None:
        await self.behave(LOSSY_AGENCY, lost_response_rate=0)
        await self.behave("treasury", lost_response_rate=0)

    async def pause(self) -> None:
        await asyncio.sleep(self.plan.pause_seconds)

    async def kill_worker(self, name: str, *, restart: bool = True) -> None:
        self.product.worker(name).kill()
        self.counts.kills[name] += 1
        if restart:
            await asyncio.to_thread(self.product.start_worker, name)
            self.counts.restarts[name] += 1

    async def restart_temporal(self) -> None:
        await asyncio.to_thread(self.product.temporal.stop)
        await asyncio.sleep(self.plan.pause_seconds)
        await asyncio.to_thread(self.product.start_temporal)
        self.counts.restarts["temporal"] += 1

    async def restart_postgres(self) -> None:
        await asyncio.to_thread(self.postgres.stop)
        await asyncio.sleep(self.plan.pause_seconds)
        await asyncio.to_thread(self.postgres.start)
        self.counts.restarts["postgres"] += 1

    async def run(self) -> None:
        """Scale out, kill both workers, stop Temporal and PostgreSQL, each while applications are in flight."""
        await self.pause()
        await asyncio.to_thread(self.product.start_worker, "worker-b")  # scale-out
        await self.pause()
        await self.kill_worker("worker-a")
        await self.pause()
        await self.restart_temporal()
        await self.pause()
        await self.kill_worker("worker-b", restart=False)
        await self.pause()
        await self.restart_postgres()
        for _ in range(self.plan.worker_kills - 1):
            await self.pause()
            await self.kill_worker("worker-a")
        await self.pause()
        await self.agencies_recover()
        await self.http.aclose()
