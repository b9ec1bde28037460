"""project_application: every column from the view, idempotent on retries, never backwards, audit per new event."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from store_samples import (
    APPLICATION_ID,
    ORGANISATION_ID,
    PERMIT_NUMBER,
    WORKFLOW_ID,
    at,
    view_in_review,
    view_issued,
)

from domain.calendar import business_days_between
from schemas.status import ApplicationStatus, ClearanceStatus, ClearanceView, PermitStatusView, SlaState
from store import audit
from store.pool import open_pool
from store.projections import fetch_application, project_application


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await open_pool(database_url, min_size=1, max_size=5)
    yield pool
    await pool.close()


async def project(pool: asyncpg.Pool, seq: int, view: PermitStatusView) -> bool:
    return await project_application(pool, WORKFLOW_ID, seq, view, business_days_between)


async def assert_read_model_is(pool: asyncpg.Pool, view: PermitStatusView, seq: int) -> None:
    """Every column of every table holds what the view says."""
    a = await pool.fetchrow("SELECT * FROM applications WHERE id = $1", view.id)
    assert a["status"] == view.status.value
    assert a["rule_set"] == view.rule_set
    assert a["submitted_at"] == view.submitted_at
    assert a["production_title"] == view.production_title
    assert a["applicant_company"] == view.applicant_company
    assert a["location_names"] == "; ".join(loc.name for loc in view.locations)
    assert a["agencies"] == [c.agency for c in view.clearances]
    assert a["permit_number"] == (view.permit.number if view.permit else None)
    assert a["issued_at"] == (view.permit.issued_at if view.permit else None)
    assert a["fees_total_idr"] == view.fees.total_idr
    assert a["paid_at"] == view.fees.paid_at
    assert a["next_deadline"] == view.next_deadline
    assert a["earliest_feasible_start"] == view.earliest_feasible_start
    assert a["organisation_id"] == view.organisation_id
    assert a["revision"] == view.revision
    assert a["awaiting_expedite"] == view.awaiting_expedite
    assert a["snapshot"] == view.model_dump(mode="json")
    assert a["projected_seq"] == seq
    assert await fetch_application(pool, view.id) == view

    rows = await pool.fetch("SELECT * FROM clearances WHERE application_id = $1 ORDER BY agency, revision", view.id)
    assert len(rows) == len(view.clearances)
    for row, c in zip(rows, sorted(view.clearances, key=lambda c: (c.agency, c.revision)), strict=True):
        assert (row["agency"], row["revision"], row["status"], row["reference"]) == (
            c.agency, c.revision, c.status.value, c.reference)
        for column in ("requested_at", "accepted_at", "due_at", "final_deadline_at", "reminded_at", "breached_at",
                       "decided_at", "reason", "failed_attempts", "conditions", "needs_officer"):
            assert row[column] == getattr(c, column), column
        assert row["sla"] == (c.sla.value if c.sla else None)
        assert row["outcome"] == (c.status.value if c.status.is_final else None)
        expected_days = business_days_between(c.accepted_at, c.decided_at) if c.decided_at else None
        assert row["turnaround_business_days"] == expected_days

    outages = await pool.fetch(
        "SELECT * FROM agency_outages WHERE application_id = $1 ORDER BY agency, revision, episode", view.id)
    expected = [(c.agency, c.revision, i, o.started_at, o.recovered_at, o.failed_attempts)
                for c in sorted(view.clearances, key=lambda c: c.agency) for i, o in enumerate(c.outages)]
    assert [(r["agency"], r["revision"], r["episode"], r["started_at"], r["recovered_at"], r["failed_attempts"])
            for r in outages] == expected

    events = await pool.fetch("SELECT * FROM timeline_events WHERE application_id = $1 ORDER BY position", view.id)
    assert [(r["position"], r["at"], r["event"], r["detail"]) for r in events] == [
        (i, e.at, e.event, e.detail) for i, e in enumerate(view.timeline)]

    trail = await pool.fetch("SELECT * FROM audit_log WHERE application_id = $1 ORDER BY seq", view.id)
    assert [(r["at"], r["action"], r["actor"], r["source_key"]) for r in trail] == [
        (e.at, e.event, e.actor or "system", f"{WORKFLOW_ID}:timeline:{i}") for i, e in enumerate(view.timeline)]


async def test_a_projection_writes_every_column_from_the_view(pool: asyncpg.Pool):
    view = view_issued()
    assert await project(pool, 12, view) is True
    await assert_read_model_is(pool, view, 12)

    heritage = await pool.fetchrow("SELECT * FROM clearances WHERE agency = 'heritage'")
    assert heritage["outcome"] == "approved_with_conditions"
    assert heritage["turnaround_business_days"] == 5  # accepted Tue 4 March, decided Tue 11 March
    assert await pool.fetchval("SELECT permit_number FROM applications") == PERMIT_NUMBER
    # the audit log names who acted from the event's actor field, never from its text
    actors = await pool.fetch("SELECT action, actor FROM audit_log WHERE actor <> 'system' ORDER BY seq")
    assert [(r["action"], r["actor"]) for r in actors] == [
        ("information_answered", "applicant:ACC-SARI"), ("officer_decision", "officer:ACC-ANI")]


async def test_the_same_seq_twice_writes_once(pool: asyncpg.Pool):
    view = view_in_review()
    assert await project(pool, 5, view) is True
    assert await project(pool, 5, view) is False

    assert await pool.fetchval("SELECT count(*) FROM timeline_events") == len(view.timeline)
    assert await pool.fetchval("SELECT count(*) FROM audit_log") == len(view.timeline)
    await assert_read_model_is(pool, view, 5)


async def test_an_older_seq_arriving_late_changes_nothing(pool: asyncpg.Pool):
    later = view_issued()
    assert await project(pool, 5, later) is True
    assert await project(pool, 3, view_in_review()) is False

    await assert_read_model_is(pool, later, 5)


async def test_a_later_seq_adds_only_the_new_events_and_audit_rows(pool: asyncpg.Pool):
    early, later = view_in_review(), view_issued()
    await project(pool, 5, early)
    first_rows = await pool.fetch("SELECT seq, hash FROM audit_log ORDER BY seq")

    assert await project(pool, 12, later) is True

    await assert_read_model_is(pool, later, 12)
    rows = await pool.fetch("SELECT seq, hash, detail FROM audit_log ORDER BY seq")
    assert [(r["seq"], r["hash"]) for r in rows[: len(first_rows)]] == [(r["seq"], r["hash"]) for r in first_rows]
    assert len(rows) == len(later.timeline)
    assert [r["detail"]["seq"] for r in rows] == [5] * len(early.timeline) + [12] * (len(later.timeline) - len(early.timeline))
    assert await audit.verify(pool) == audit.VerifyResult(ok=True, rows=len(later.timeline))


async def test_concurrent_projections_write_once_and_keep_one_chain(pool: asyncpg.Pool):
    one = view_issued()
    two = one.model_copy(update={"id": "PRM-OTHER0000001", "permit": None})
    writes = [project_application(pool, f"permit-{one.id}", 9, one, business_days_between) for _ in range(4)]
    writes.append(project_application(pool, f"permit-{two.id}", 9, two, business_days_between))

    results = await asyncio.gather(*writes)  # e.g. a retried activity while the first attempt still runs

    assert sorted(results) == [False, False, False, True, True]
    assert await pool.fetchval("SELECT count(*) FROM timeline_events") == 2 * len(one.timeline)
    assert await audit.verify(pool) == audit.VerifyResult(ok=True, rows=2 * len(one.timeline))


async def test_the_queue_columns_follow_the_view(pool: asyncpg.Pool):
    """Ownership, revision, an expedite request and an officer flag are written, and cleared, from the view."""
    early = view_in_review().model_copy(update={"awaiting_expedite": True})
    assert await project(pool, 4, early) is True
    await assert_read_model_is(pool, early, 4)
    assert await pool.fetchval("SELECT awaiting_expedite FROM applications") is True
    flagged = await pool.fetch("SELECT agency FROM clearances WHERE needs_officer")
    assert [r["agency"] for r in flagged] == ["police"]

    later = view_issued()
    assert await project(pool, 12, later) is True
    assert await project(pool, 6, early) is False  # a late retry of the old view changes nothing back

    await assert_read_model_is(pool, later, 12)
    row = await pool.fetchrow("SELECT organisation_id, revision, awaiting_expedite FROM applications")
    assert dict(row) == {"organisation_id": ORGANISATION_ID, "revision": 2, "awaiting_expedite": False}
    assert await pool.fetchval("SELECT count(*) FROM clearances WHERE needs_officer") == 0


def view_amended() -> PermitStatusView:
    """Revision 2 of `view_in_review` plus a decided district clearance: heritage requested again, police and
    district no longer routed, parks added."""
    early = view_in_review()
    heritage = early.clearances[0].model_copy(update={
        "revision": 2, "reference": f"{APPLICATION_ID}:heritage:r2", "requested_at": at(8, 10), "accepted_at": at(8, 11),
        "due_at": at(13, 17), "final_deadline_at": at(17, 17), "failed_attempts": 0, "outages": [],
    })
    parks = ClearanceView(agency="parks", revision=2, status=ClearanceStatus.submitted, requested_at=at(8, 10),
                          accepted_at=at(8, 10, 5), due_at=at(13, 17), sla=SlaState.on_track)
    return early.model_copy(update={"status": ApplicationStatus.in_review, "revision": 2,
                                    "clearances": [heritage, parks]})


def with_district(view: PermitStatusView) -> PermitStatusView:
    district = ClearanceView(agency="district", status=ClearanceStatus.approved, requested_at=at(3, 9, 3),
                             accepted_at=at(3, 10), decided_at=at(5, 10), sla=SlaState.met)
    police = view.clearances[1].model_copy(update={"sla": SlaState.at_risk})
    return view.model_copy(update={"clearances": [view.clearances[0], police, district]})


async def clearance_rows(pool: asyncpg.Pool) -> dict[tuple[str, int], dict]:
    rows = await pool.fetch("SELECT agency, revision, status, outcome, reason, decided_at, needs_officer "
                            "FROM clearances ORDER BY agency, revision")
    return {(r["agency"], r["revision"]): dict(r) for r in rows}


async def test_an_amendment_withdraws_the_undecided_requests_it_superseded(pool: asyncpg.Pool):
    """Older revisions stay as history: undecided ones are withdrawn (superseded, or no longer routed), decided
    ones keep their decision; none of them counts as open any more, and retries change nothing."""
    early = with_district(view_in_review())
    assert await project(pool, 5, early) is True
    assert await pool.fetchval("SELECT sum(open) FROM sla_daily") == 2  # heritage and police

    amended = view_amended()
    assert await project(pool, 9, amended) is True

    rows = await clearance_rows(pool)
    assert set(rows) == {("district", 1), ("heritage", 1), ("heritage", 2), ("parks", 2), ("police", 1)}
    assert {k: (v["status"], v["outcome"], v["reason"], v["decided_at"], v["needs_officer"])
            for k, v in rows.items() if k[1] == 1} == {
        ("heritage", 1): ("withdrawn", "withdrawn", "superseded by revision 2", None, False),
        ("police", 1): ("withdrawn", "withdrawn", "no longer required after amendment", None, False),
        ("district", 1): ("approved", "approved", None, at(5, 10), False),
    }
    assert (rows["heritage", 2]["status"], rows["parks", 2]["status"]) == ("submitted", "submitted")
    figures = await pool.fetchrow("SELECT sum(requests) AS requests, sum(decided) AS decided, sum(open) AS open, "
                                  "sum(open_at_risk) AS at_risk FROM sla_daily")
    assert dict(figures) == {"requests": 5, "decided": 1, "open": 2, "at_risk": 0}  # heritage r2 and parks
    assert await fetch_application(pool, APPLICATION_ID) == amended

    # a retry, a later event with the same clearances, a late retry of the old view: nothing changes back
    assert await project(pool, 9, amended) is False
    later = amended.model_copy(update={"timeline": [*amended.timeline, *view_issued().timeline[5:6]]})
    assert await project(pool, 10, later) is True
    assert await project(pool, 6, early) is False
    assert await clearance_rows(pool) == rows
    again = await pool.fetchrow("SELECT sum(requests) AS requests, sum(decided) AS decided, sum(open) AS open, "
                                "sum(open_at_risk) AS at_risk FROM sla_daily")
    assert again == figures
    assert await audit.verify(pool) == audit.VerifyResult(ok=True, rows=len(later.timeline))


async def test_a_request_decided_before_the_amendment_keeps_its_decision(pool: asyncpg.Pool):
    """Requested again after a decision: the decided older revision is history as it was, not withdrawn."""
    issued = view_issued()
    assert await project(pool, 12, issued) is True
    amended = view_amended().model_copy(update={"revision": 3, "clearances": [
        c.model_copy(update={"revision": 3}) for c in view_amended().clearances]})
    assert await project(pool, 15, amended) is True

    rows = await clearance_rows(pool)
    assert {k: (v["status"], v["outcome"]) for k, v in rows.items()} == {
        ("heritage", 1): ("approved_with_conditions", "approved_with_conditions"),
        ("police", 1): ("approved", "approved"),
        ("heritage", 3): ("submitted", None),
        ("parks", 3): ("submitted", None),
    }


async def test_fetch_application_of_an_unknown_id_is_none(pool: asyncpg.Pool):
    assert await fetch_application(pool, APPLICATION_ID) is None
