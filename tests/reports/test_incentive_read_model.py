"""Incentives in the read model: projection that never goes backwards, the list, the committee queue, the figures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from schemas.incentives import CommitteeView, IncentiveStatus, IncentiveStatusView, Programme, Vote
from schemas.status import TimelineEvent
from store import audit
from store.accounts import create_account
from store.incentive_projections import fetch_incentive, project_incentive
from store.incentive_reports import committee_queue, figures, list_incentives
from tests.reports.report_samples import jkt
from tests.reports.test_reports_api import make_app


def incentive(incentive_id: str, *, day: int, status: IncentiveStatus = IncentiveStatus.awaiting_photography,
              programme: Programme = Programme.location_rebate, organisation: str = "org-a", fiscal_year: int = 2027,
              reserved: int = 0, paid: int = 0, clawed_back: int = 0, events: int = 1,
              votes: list[Vote] | None = None) -> IncentiveStatusView:
    submitted = jkt(2026, 11, day, 9)
    timeline = [TimelineEvent(at=submitted, event="submitted", actor="applicant:sari")]
    timeline += [TimelineEvent(at=jkt(2026, 11, day, 10 + n), event=f"step_{n}") for n in range(1, events)]
    return IncentiveStatusView(
        id=incentive_id, programme=programme, programme_version="2027.1", status=status, organisation_id=organisation,
        permit_id=f"PRM-{incentive_id}", fiscal_year=fiscal_year, submitted_at=submitted,
        production_title=f"Film {incentive_id}", estimated_idr=1_000_000_000, reserved_idr=reserved, paid_idr=paid,
        clawed_back_idr=clawed_back, committee=CommitteeView(round=1 if votes is not None else 0, votes=votes or []),
        timeline=timeline)


async def audit_actions(pool: asyncpg.Pool, incentive_id: str) -> list[tuple[str, str]]:
    rows = await pool.fetch("SELECT actor, action FROM audit_log WHERE application_id = $1 ORDER BY seq", incentive_id)
    return [(r["actor"], r["action"]) for r in rows]


async def test_a_projection_is_idempotent_never_goes_backwards_and_audits_each_event_once(pool: asyncpg.Pool) -> None:
    assert await project_incentive(pool, "INC-1", 3, incentive("INC-1", day=2, events=2, reserved=500))
    assert not await project_incentive(pool, "INC-1", 3, incentive("INC-1", day=2, events=2, reserved=500))
    stale = incentive("INC-1", day=2, status=IncentiveStatus.submitted, events=1)
    assert not await project_incentive(pool, "INC-1", 2, stale)  # an older view arriving late is dropped
    assert (await fetch_incentive(pool, "INC-1")).status == IncentiveStatus.awaiting_photography

    newer = incentive("INC-1", day=2, status=IncentiveStatus.claim_due, events=3, paid=500)
    assert await project_incentive(pool, "INC-1", 7, newer)
    assert await fetch_incentive(pool, "INC-1") == newer
    assert await audit_actions(pool, "INC-1") == [("applicant:sari", "submitted"), ("system", "step_1"),
                                                  ("system", "step_2")]
    assert (await audit.verify(pool)).ok
    assert await fetch_incentive(pool, "INC-404") is None


@pytest.fixture
async def three(pool: asyncpg.Pool) -> None:
    await project_incentive(pool, "INC-A", 1, incentive("INC-A", day=1, reserved=1_000_000_000))
    await project_incentive(pool, "INC-B", 1, incentive(
        "INC-B", day=2, status=IncentiveStatus.committee, paid=300_000_000, reserved=700_000_000,
        votes=[Vote(officer="officer:ani", outcome="approve", reason="in order", at=jkt(2026, 11, 20))]))
    await project_incentive(pool, "INC-C", 1, incentive(
        "INC-C", day=3, status=IncentiveStatus.completed, programme=Programme.shooting_days_grant,
        organisation="org-b", paid=200_000_000, clawed_back=50_000_000))
    await project_incentive(pool, "INC-D", 1, incentive("INC-D", day=4, status=IncentiveStatus.committee,
                                                        fiscal_year=2028, votes=[]))


async def ids(pool: asyncpg.Pool, **filters) -> list[str]:
    return [item.id for item in (await list_incentives(pool, **filters)).items]


async def test_the_list_scopes_filters_and_pages(pool: asyncpg.Pool, three: None) -> None:
    assert await ids(pool) == ["INC-D", "INC-C", "INC-B", "INC-A"]  # newest first
    assert await ids(pool, organisation_id="org-a") == ["INC-D", "INC-B", "INC-A"]
    assert await ids(pool, organisation_id="org-nobody") == []
    assert await ids(pool, status="committee") == ["INC-D", "INC-B"]
    assert await ids(pool, programme="shooting_days_grant") == ["INC-C"]

    seen, cursor = [], None
    while True:
        page = await list_incentives(pool, limit=3, cursor=cursor)
        seen += [item.id for item in page.items]
        if not (cursor := page.next_cursor):
            break
    assert seen == ["INC-D", "INC-C", "INC-B", "INC-A"]
    with pytest.raises(ValueError, match="limit"):
        await list_incentives(pool, limit=0)


async def test_the_committee_queue_is_the_claims_before_it_oldest_first_with_approvals(
        pool: asyncpg.Pool, three: None) -> None:
    queue = await committee_queue(pool)
    assert [(item.id, item.approvals, item.committee_round) for item in queue] == [("INC-B", 1, 1), ("INC-D", 0, 1)]


async def test_the_figures_count_and_sum_the_money_per_programme_and_status(pool: asyncpg.Pool, three: None) -> None:
    rows = {(f.programme.value, f.status.value): (f.count, f.reserved_idr, f.paid_idr, f.clawed_back_idr)
            for f in await figures(pool, 2027)}
    assert rows == {
        ("location_rebate", "awaiting_photography"): (1, 1_000_000_000, 0, 0),
        ("location_rebate", "committee"): (1, 700_000_000, 300_000_000, 0),
        ("shooting_days_grant", "completed"): (1, 0, 200_000_000, 50_000_000),
    }
    assert await figures(pool, 2030) == []


@pytest.fixture
async def http(tmp_path: Path, pool: asyncpg.Pool, three: None) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app(tmp_path, pool))
    async with httpx.AsyncClient(transport=transport, base_url="https://jfc.test") as client:
        yield client


async def as_role(pool: asyncpg.Pool, role: str) -> dict[str, str]:
    _, token = await create_account(pool, name=f"A {role}", role=role,
                                    organisation="PT Contoh Film" if role == "applicant" else None)
    return {"Authorization": f"Bearer {token}"}


async def test_the_figures_and_the_committee_over_http(http: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    auditor, officer = await as_role(pool, "auditor"), await as_role(pool, "officer")
    got = await http.get("/v1/reports/incentives", params={"fiscal_year": 2027}, headers=auditor)
    assert got.status_code == 200, got.text
    assert {(r["programme"], r["status"], r["paid_idr"]) for r in got.json()} == {
        ("location_rebate", "awaiting_photography", 0), ("location_rebate", "committee", 300_000_000),
        ("shooting_days_grant", "completed", 200_000_000)}
    bad = await http.get("/v1/reports/incentives", params={"fiscal_year": "next"}, headers=auditor)
    assert bad.status_code == 422 and "fiscal_year" in bad.text
    queue = await http.get("/v1/officer/committee", headers=officer)
    assert queue.status_code == 200, queue.text
    assert [item["id"] for item in queue.json()] == ["INC-B", "INC-D"]
    assert (await http.get("/v1/reports/incentives", params={"fiscal_year": 2027},
                           headers=await as_role(pool, "applicant"))).status_code == 403
