"""Shared by the read-model tests: a fake agency world whose projections go to a real PostgreSQL, and
a field-by-field comparison of the read model with a workflow's own status view."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from activities.records import RecordActivities
from domain import calendar
from schemas.status import PermitStatusView
from store.projections import fetch_application
from tests.workflows.wf_harness import FakeWorld


@dataclass
class RecordingLogger:
    """Stands in for structlog: keeps (level, event, fields) of every line."""

    lines: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def __getattr__(self, level: str) -> Callable[..., None]:
        return lambda event, **fields: self.lines.append((level, event, fields))

    def events(self, name: str) -> list[dict[str, Any]]:
        return [f for _, e, f in self.lines if e == name]


@dataclass
class ReadModelWorld(FakeWorld):
    """The in-memory agencies of wf_harness, with the real record activity on a real pool."""

    pool: asyncpg.Pool | None = None
    log: RecordingLogger = field(default_factory=RecordingLogger)

    def activities(self) -> list[Callable[..., Any]]:
        fakes = [a for a in super().activities() if a != self.record]
        return [*fakes, RecordActivities(self.pool, logger=self.log).record_application]


async def until_projected(pool: asyncpg.Pool, handle: Any, timeout: float = 30.0) -> PermitStatusView:
    """Wait (real time) until the read model's view equals the workflow's status query; return it."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + timeout
    while True:
        wanted = await handle.query("status", result_type=PermitStatusView)
        try:
            stored = await fetch_application(pool, wanted.id)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            stored = None
        if stored == wanted:
            return wanted
        if loop.time() > give_up:
            raise AssertionError(
                f"the read model did not catch up in {timeout} s: workflow {wanted.status} with "
                f"{len(wanted.timeline)} events, read model {stored.status if stored else None} with "
                f"{len(stored.timeline) if stored else 0}; fields that differ: {_differences(stored, wanted)}"
            )
        await asyncio.sleep(0.1)


async def assert_read_model_matches(pool: asyncpg.Pool, view: PermitStatusView, *, audit: bool = True) -> None:
    """Every column the projection writes holds what `view` (the workflow's status query) says."""
    async with pool.acquire() as conn:
        app = await conn.fetchrow("SELECT * FROM applications WHERE id = $1", view.id)
        clearances = await conn.fetch(
            "SELECT * FROM clearances WHERE application_id = $1 ORDER BY agency, revision", view.id
        )
        outages = await conn.fetch(
            "SELECT * FROM agency_outages WHERE application_id = $1 ORDER BY agency, revision, episode", view.id
        )
        timeline = await conn.fetch(
            "SELECT * FROM timeline_events WHERE application_id = $1 ORDER BY position", view.id
        )
        audit_rows = await conn.fetch(
            "SELECT action, at, detail::text AS detail FROM audit_log WHERE application_id = $1 ORDER BY seq", view.id
        )
    assert app is not None, f"{view.id} is not in the read model"

    # applications: the snapshot, and every column searched or reported on
    assert await fetch_application(pool, view.id) == view
    assert PermitStatusView.model_validate(_json(app["snapshot"])) == view
    expected_app = {
        "status": view.status.value,
        "rule_set": view.rule_set,
        "submitted_at": view.submitted_at,
        "production_title": view.production_title,
        "applicant_company": view.applicant_company,
        "location_names": "; ".join(loc.name for loc in view.locations),
        "agencies": [c.agency for c in view.clearances],
        "permit_number": view.permit.number if view.permit else None,
        "issued_at": view.permit.issued_at if view.permit else None,
        "fees_total_idr": view.fees.total_idr if view.fees else None,
        "paid_at": view.fees.paid_at if view.fees else None,
        "next_deadline": view.next_deadline,
        "earliest_feasible_start": view.earliest_feasible_start,
    }
    assert {k: app[k] for k in expected_app} == expected_app
    assert app["projected_seq"] >= 1

    # clearances: one row per agency and revision, column by column
    assert len(clearances) == len(view.clearances)
    by_key = {(r["agency"], r["revision"]): r for r in clearances}
    for c in view.clearances:
        row = by_key[(c.agency, c.revision)]
        expected = {
            "status": c.status.value,
            "reference": c.reference,
            "requested_at": c.requested_at,
            "accepted_at": c.accepted_at,
            "due_at": c.due_at,
            "final_deadline_at": c.final_deadline_at,
            "reminded_at": c.reminded_at,
            "breached_at": c.breached_at,
            "decided_at": c.decided_at,
            "sla": c.sla.value if c.sla else None,
            "outcome": c.status.value if c.status.is_final else None,
            "conditions": c.conditions,
            "reason": c.reason,
            "failed_attempts": c.failed_attempts,
            "turnaround_business_days": (
                calendar.business_days_between(c.accepted_at, c.decided_at) if c.accepted_at and c.decided_at else None
            ),
        }
        actual = {k: (_json(row[k]) if k == "conditions" else row[k]) for k in expected}
        assert actual == expected, f"clearance {c.agency}"

    # agency outages: one row per episode
    expected_outages = [
        (c.agency, c.revision, i, o.started_at, o.recovered_at, o.failed_attempts)
        for c in view.clearances
        for i, o in enumerate(c.outages)
    ]
    actual_outages = [
        (r["agency"], r["revision"], r["episode"], r["started_at"], r["recovered_at"], r["failed_attempts"])
        for r in outages
    ]
    assert sorted(actual_outages) == sorted(expected_outages)

    # the timeline: every event, in order, once
    assert [(r["position"], r["at"], r["event"], r["detail"]) for r in timeline] == [
        (i, e.at, e.event, e.detail) for i, e in enumerate(view.timeline)
    ]
    if audit:  # one audit row per timeline event, in the same order
        assert [(r["action"], r["at"]) for r in audit_rows] == [(e.event, e.at) for e in view.timeline]
        assert [_json(r["detail"])["position"] for r in audit_rows] == list(range(len(view.timeline)))


def _differences(stored: PermitStatusView | None, wanted: PermitStatusView) -> dict[str, Any]:
    """The top-level fields where the read model and the workflow disagree: {field: (stored, wanted)}."""
    if stored is None:
        return {}
    have, want = stored.model_dump(mode="json"), wanted.model_dump(mode="json")
    return {k: (have.get(k), want[k]) for k in want if have.get(k) != want[k]}


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value
