"""Notifications are structured log events, without e-mail addresses or phone numbers; a list is one activity."""

from __future__ import annotations

import dataclasses

from activity_samples import APPLICATION_ID, EMAIL, PHONE
from structlog.testing import capture_logs
from temporalio.testing import ActivityEnvironment

from activities.notifications import NotificationActivities, notification_key
from schemas.contracts import Notification, Notifications


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


async def test_notify_takes_a_list_and_emits_one_event_each_in_order():
    notes = Notifications(items=[
        Notification(application_id=APPLICATION_ID, kind="permit_issued", audience="applicant", detail="JFC-1"),
        Notification(application_id=APPLICATION_ID, kind="permit_issued", audience="agency:parks", agency="parks",
                     detail=f"JFC-1, ask {EMAIL}"),
        Notification(application_id=APPLICATION_ID, kind="refund_due", audience="officer", detail="pay-2"),
    ])  # fmt: skip
    with capture_logs() as logs:
        await ActivityEnvironment().run(NotificationActivities().notify, notes)
    assert [(e["kind"], e["audience"]) for e in logs] == [
        ("permit_issued", "applicant"), ("permit_issued", "agency:parks"), ("refund_due", "officer")]
    assert EMAIL not in repr(logs)


def test_each_notification_of_a_list_has_its_own_key_stable_across_retries():
    note = Notification(application_id=APPLICATION_ID, kind="payment_due", audience="applicant")
    keys = {}
    for attempt in (1, 2):
        env = ActivityEnvironment()
        env.info = dataclasses.replace(env.info, workflow_id="wf", workflow_run_id="run", activity_id="3",
                                       attempt=attempt)
        keys[attempt] = env.run(lambda: [notification_key(note, i) for i in range(2)])
    assert keys[1] == keys[2] == ["wf:run:3:0", "wf:run:3:1"]
    assert notification_key(note.model_copy(update={"key": "paid-once"}), 1) == "paid-once"
