"""Notifications are structured log events, without e-mail addresses or phone numbers."""

from __future__ import annotations

from activity_samples import APPLICATION_ID, EMAIL, PHONE
from structlog.testing import capture_logs
from temporalio.testing import ActivityEnvironment

from activities.notifications import NotificationActivities
from schemas.contracts import Notification


async def test_notify_emits_one_event_without_contact_details():
    note = Notification(
        application_id=APPLICATION_ID, kind="information_required", audience="applicant", agency="parks",
        detail=f"Tell {EMAIL} or call {PHONE} (alt. 0812-3456-7890): how many vehicles on 2027-01-12?",
    )  # fmt: skip
    with capture_logs() as logs:
        await ActivityEnvironment().run(NotificationActivities().notify, note)
    [event] = logs
    assert {k: event[k] for k in ("event", "application_id", "kind", "audience", "agency")} == {
        "event": "notification", "application_id": APPLICATION_ID, "kind": "information_required",
        "audience": "applicant", "agency": "parks",
    }  # fmt: skip
    assert "how many vehicles on 2027-01-12?" in event["detail"]
    for secret in (EMAIL, PHONE, "0812-3456-7890", "sari@"):
        assert secret not in repr(logs)
