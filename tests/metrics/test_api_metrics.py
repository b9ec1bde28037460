"""The API's /metrics: the product gauges from a seeded read model, request counts, and no ids in labels."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import httpx
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from config.settings import Settings
from domain.catalog import load_rule_set
from schemas.catalog import AgencyCode
from schemas.contracts import Notification
from store import funds, outbox
from tests.reports.report_samples import add_application, add_clearance, add_outage, jkt

NOW = jkt(2026, 10, 20, 12)


def make_app(tmp_path: Path, pool: asyncpg.Pool | None):
    settings = Settings(state_dir=tmp_path, JFC_PUBLIC_BASE_URL="https://jfc.test")
    rules = load_rule_set(settings.agencies_file, settings.rules_file, "http://sim.test")
    # /metrics never calls Temporal: any object stands in for the client.
    return create_app(settings, object(), rules, secrets=lambda ref: b"s", clock=lambda: NOW, pool=pool)  # type: ignore[arg-type]


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text page: (name, sorted labels) → value."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def seed(pool: asyncpg.Pool) -> None:
    await add_application(pool, "PRM-A", submitted_at=jkt(2026, 10, 2, 9), agencies=("parks", "police"))
    await add_application(pool, "PRM-B", submitted_at=jkt(2026, 10, 1, 9), agencies=("district",))
    await add_clearance(pool, "PRM-A", "parks", requested_at=jkt(2026, 10, 1, 9), decided_at=jkt(2026, 10, 5, 9),
                        sla="met", outcome="approved", status="approved", turnaround=2)
    # police: revision 1 superseded by an amendment's revision 2, which is open and breached
    await add_clearance(pool, "PRM-A", "police", requested_at=jkt(2026, 10, 1, 9), status="withdrawn",
                        decided_at=jkt(2026, 10, 3, 9))
    await add_clearance(pool, "PRM-A", "police", revision=2, requested_at=jkt(2026, 10, 3, 9),
                        due_at=jkt(2026, 10, 8, 16), breached_at=jkt(2026, 10, 8, 16), sla="breached")
    await add_clearance(pool, "PRM-B", "district", requested_at=jkt(2026, 10, 1, 9), due_at=jkt(2026, 10, 6, 16),
                        breached_at=jkt(2026, 10, 6, 16), sla="breached")
    await add_outage(pool, "PRM-B", "district", 0, jkt(2026, 10, 2, 10), jkt(2026, 10, 2, 10, 45))
    await add_outage(pool, "PRM-B", "district", 1, jkt(2026, 10, 7, 10), None)  # down now
    await add_outage(pool, "PRM-A", "parks", 0, jkt(2026, 10, 1, 10), None)  # its clearance is decided: not down
    for n in range(3):
        await outbox.enqueue(pool, Notification(application_id="PRM-A", kind="sla_breached", audience="applicant",
                                                webhook_url="https://hooks.example/jfc"), key=f"k{n}")
    await pool.execute("UPDATE notification_outbox SET delivered_at = now() WHERE key = 'k0'")
    await funds.set_capacity(pool, 2026, "location_rebate", 10_000, key="cap", actor="officer:OFF-1", reason="budget",
                             default_capacity_idr=5_000)
    await funds.reserve(pool, 2026, "location_rebate", "INC-1", 3_000, key="r1", actor="system", reason="approved",
                        default_capacity_idr=5_000)
    await funds.pay(pool, "INC-1", 1_000, key="p1", actor="system", reason="tranche 1")


async def test_metrics_show_the_read_model(tmp_path: Path, pool: asyncpg.Pool) -> None:
    await seed(pool)
    transport = httpx.ASGITransport(app=make_app(tmp_path, pool))
    async with httpx.AsyncClient(transport=transport, base_url="https://jfc.test") as http:
        assert (await http.get("/v1/permits/PRM-A")).status_code == 401  # counted under its route template
        response = await http.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        got = samples((await http.get("/metrics")).text)

    assert got[("jfc_read_model_up", ())] == 1
    assert got[("jfc_clearances", (("agency", "parks"), ("status", "approved")))] == 1
    assert got[("jfc_clearances", (("agency", "police"), ("status", "submitted")))] == 1  # revision 2 only
    assert ("jfc_clearances", (("agency", "police"), ("status", "withdrawn"))) not in got
    assert got[("jfc_sla_breaches_open", (("agency", "police"),))] == 1
    assert got[("jfc_sla_breaches_open", (("agency", "district"),))] == 1
    assert got[("jfc_sla_breaches_open", (("agency", "parks"),))] == 0
    assert {a.value for a in AgencyCode} == {dict(k[1])["agency"] for k in got if k[0] == "jfc_agency_unreachable"}
    assert got[("jfc_agency_unreachable", (("agency", "district"),))] == 1
    assert got[("jfc_agency_unreachable", (("agency", "parks"),))] == 0
    assert got[("jfc_agencies_unreachable", ())] == 1
    assert got[("jfc_outbox_backlog", ())] == 2
    assert got[("jfc_outbox_oldest_pending_seconds", ())] >= 0
    fund = (("fiscal_year", "2026"), ("programme", "location_rebate"))
    assert [got[(f"jfc_fund_{b}_idr", fund)] for b in ("capacity", "reserved", "paid", "available")] == [
        10_000, 2_000, 1_000, 7_000]
    assert got[("jfc_api_requests_total", (("method", "GET"), ("route", "/v1/permits/{application_id}"),
                                           ("status", "401")))] == 1
    assert got[("jfc_api_requests_total", (("method", "GET"), ("route", "/metrics"), ("status", "200")))] == 1
    assert not [k for k in got if any("PRM-" in v or "INC-" in v for _, v in k[1])]  # no ids in labels


async def test_metrics_without_a_read_model_say_so(tmp_path: Path) -> None:
    transport = httpx.ASGITransport(app=make_app(tmp_path, None))
    async with httpx.AsyncClient(transport=transport, base_url="https://jfc.test") as http:
        assert (await http.get("/no/such/path")).status_code == 404
        got = samples((await http.get("/metrics")).text)
        spec = (await http.get("/openapi.json")).json()
    assert got[("jfc_read_model_up", ())] == 0
    assert not [k for k in got if k[0] == "jfc_outbox_backlog"]
    assert got[("jfc_api_requests_total", (("method", "GET"), ("route", "unmatched"), ("status", "404")))] == 1
    assert "/metrics" not in spec["paths"]
