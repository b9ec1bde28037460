"""The notify activity queues applicant webhook notifications once per key, and still only logs without a pool."""

from __future__ import annotations

import dataclasses

import asyncpg
import pytest
from outbox_samples import APPLICATION_ID, note
from structlog.testing import capture_logs
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notifications import OUTBOX_UNAVAILABLE, NotificationActivities

EMAIL = "sari@contoh.id"


def env_for(workflow_id: str, run_id: str, activity_id: str, attempt: int = 1) -> ActivityEnvironment:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        env.info, workflow_id=workflow_id, workflow_run_id=run_id, activity_id=activity_id, attempt=attempt
    )
    return env


async def test_notify_queues_once_with_the_key_of_the_activity(pool: asyncpg.Pool):
    activities = NotificationActivities(pool)
    message = note("https://hooks.example/jfc", detail=f"write to {EMAIL}")
    with capture_logs() as logs:
        await env_for(APPLICATION_ID, "run-1", "7").run(activities.notify, message)
        await env_for(APPLICATION_ID, "run-1", "7", attempt=2).run(activities.notify, message)  # a retry
    rows = await pool.fetch("SELECT key, application_id, kind, organisation_id, webhook_url FROM notification_outbox")
    assert [dict(r) for r in rows] == [{
        "key": f"{APPLICATION_ID}:run-1:7", "application_id": APPLICATION_ID, "kind": "payment_due",
        "organisation_id": "ORG-A", "webhook_url": "https://hooks.example/jfc",
    }]  # fmt: skip
    assert [e["outbox"] for e in logs] == ["queued", "already_queued"]
    assert EMAIL not in repr(logs) and "hooks.example" not in repr(logs)


async def test_another_activity_or_run_is_another_notification(pool: asyncpg.Pool):
    activities = NotificationActivities(pool)
    await env_for(APPLICATION_ID, "run-1", "7").run(activities.notify, note("https://hooks.example/jfc"))
    await env_for(APPLICATION_ID, "run-1", "8").run(activities.notify, note("https://hooks.example/jfc"))
    await env_for(APPLICATION_ID, "run-2", "7").run(activities.notify, note("https://hooks.example/jfc"))
    assert await pool.fetchval("SELECT count(*) FROM notification_outbox") == 3


async def test_an_explicit_key_wins(pool: asyncpg.Pool):
    activities = NotificationActivities(pool)
    for activity_id in ("1", "2"):
        await env_for("wf", "run", activity_id).run(activities.notify, note("https://h.example", key="paid-once"))
    assert [r["key"] for r in await pool.fetch("SELECT key FROM notification_outbox")] == ["paid-once"]


@pytest.mark.parametrize(
    "message",
    [note("https://h.example", audience="officer"), note("https://h.example", audience="agency:parks"), note(None)],
    ids=["officer", "agency", "no-webhook"],
)
async def test_only_applicants_with_a_webhook_are_queued(pool: asyncpg.Pool, message):
    with capture_logs() as logs:
        await ActivityEnvironment().run(NotificationActivities(pool).notify, message)
    assert await pool.fetchval("SELECT count(*) FROM notification_outbox") == 0
    [event] = logs
    assert event["event"] == "notification" and "outbox" not in event


async def test_without_a_pool_it_only_logs():
    with capture_logs() as logs:
        await ActivityEnvironment().run(NotificationActivities().notify, note("https://h.example"))
    [event] = logs
    assert event["event"] == "notification" and "outbox" not in event


async def test_a_database_error_is_retried(database_url: str):
    from store.pool import open_pool

    pool = await open_pool(database_url, max_size=1)
    await pool.close()
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(NotificationActivities(pool).notify, note("https://h.example"))
    assert caught.value.type == OUTBOX_UNAVAILABLE and caught.value.non_retryable is False
    assert "payment_due" in str(caught.value) and APPLICATION_ID in str(caught.value)
