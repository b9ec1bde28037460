"""The record activity on its own: idempotent by seq, retryable when the database is down or not configured."""

from __future__ import annotations

import datetime as dt

import asyncpg
import httpx
import pytest
from records_checks import RecordingLogger, assert_read_model_matches
from temporalio.activity import _Definition
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import all_activities
from activities.records import READ_MODEL_UNAVAILABLE, RecordActivities
from config.settings import Settings
from domain.catalog import load_rule_set
from schemas.contracts import RECORD_APPLICATION, ProjectionInput
from schemas.status import (
    ApplicationStatus,
    ClearanceStatus,
    ClearanceView,
    LocationView,
    OutageEpisode,
    PermitStatusView,
    ShootDayView,
    TimelineEvent,
)
from store.pool import open_pool
from store.projections import fetch_application

T0 = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)


def view_at(events: int, status: ApplicationStatus = ApplicationStatus.in_review) -> PermitStatusView:
    return PermitStatusView(
        id="PRM-RECORDS0001",
        status=status,
        rule_set="test-2026.1",
        submitted_at=T0,
        production_title="Senja di Kota",
        applicant_company="PT Contoh Film",
        locations=[LocationView(name="Taman Suropati", kind="park", address="Menteng", city="Jakarta Pusat",
                                days=[ShootDayView(date=dt.date(2027, 1, 12), start=dt.time(6), end=dt.time(18))])],
        clearances=[ClearanceView(
            agency="parks", status=ClearanceStatus.submitted, reference="PARKS-0001", requested_at=T0,
            accepted_at=T0 + dt.timedelta(hours=2), failed_attempts=2,
            outages=[OutageEpisode(started_at=T0, recovered_at=T0 + dt.timedelta(hours=2), failed_attempts=2)],
        )],
        timeline=[TimelineEvent(at=T0 + dt.timedelta(minutes=i), event=f"event_{i}") for i in range(events)],
    )


def projection(seq: int, view: PermitStatusView) -> ProjectionInput:
    return ProjectionInput(workflow_id=view.id, seq=seq, view=view)


async def test_writes_once_per_seq_and_never_goes_backwards(database_url):
    pool = await open_pool(database_url)
    try:
        record = RecordActivities(pool).record_application
        env = ActivityEnvironment()
        assert await env.run(record, projection(2, view_at(2))) is True
        assert await env.run(record, projection(2, view_at(2))) is False  # a retry of the same write
        assert await env.run(record, projection(5, view_at(5, ApplicationStatus.officer_review))) is True
        assert await env.run(record, projection(3, view_at(3))) is False  # late, out of order: ignored
        stored = await fetch_application(pool, "PRM-RECORDS0001")
        assert stored == view_at(5, ApplicationStatus.officer_review)
        await assert_read_model_matches(pool, stored)
    finally:
        await pool.close()


async def test_a_closed_pool_is_a_retryable_outage_logged_without_personal_data(database_url):
    pool = await open_pool(database_url)
    await pool.close()
    log = RecordingLogger()
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(RecordActivities(pool, logger=log).record_application, projection(1, view_at(1)))
    assert caught.value.type == READ_MODEL_UNAVAILABLE and not caught.value.non_retryable
    assert "read model unavailable" in caught.value.message and "InterfaceError" in caught.value.message
    [fields] = log.events("read_model_unavailable")
    assert fields == {"application_id": "PRM-RECORDS0001", "seq": 1, "error": fields["error"]}


async def test_a_server_that_is_not_there_is_a_retryable_outage(tmp_path):
    url = f"postgresql://postgres:@/postgres?host={tmp_path}"  # no socket: nothing listens
    pool = await asyncpg.create_pool(url, min_size=0, max_size=1)  # connects on first use
    try:
        with pytest.raises(ApplicationError) as caught:
            await ActivityEnvironment().run(RecordActivities(pool).record_application, projection(1, view_at(1)))
        assert caught.value.type == READ_MODEL_UNAVAILABLE and not caught.value.non_retryable
    finally:
        await pool.close()


async def test_without_a_pool_it_is_registered_and_fails_retryably(tmp_path):
    rules = load_rule_set(Settings().agencies_file, Settings().rules_file, "http://127.0.0.1:1")
    async with httpx.AsyncClient() as http:
        activities = all_activities(http, rules, tmp_path)
    [record] = [fn for fn in activities if _Definition.must_from_callable(fn).name == RECORD_APPLICATION]
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(record, projection(1, view_at(1)))
    assert caught.value.type == READ_MODEL_UNAVAILABLE and not caught.value.non_retryable
    assert "read model not configured" in caught.value.message
