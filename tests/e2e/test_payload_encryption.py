"""Personal data never sits in clear in Temporal: the real stack's histories hold ciphertext only."""

from __future__ import annotations

import json
import uuid

import pytest
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

from cli.demo import demo_applications
from schemas.contracts import QUERY_STATUS
from schemas.status import PermitStatusView
from tests.e2e.conftest import Stack, first_feasible_day
from workers.codec import ENCODING, KEY_ID

PASSPORT = "X7Q4PASS91"
EMAIL = "kim.jiwoo.private@seoul-pictures.example"
PHONE = "+82 10 5555 0199"
# Payloads no codec touches: the server indexes search attributes (status, next deadline; no personal data).
UNENCODED = {"temporal.api.common.v1.SearchAttributes", "temporal.api.common.v1.Header"}


def payloads_of(event: HistoryEvent) -> list:
    """Every codec-encoded payload of an event (inputs, results, failures, memo), found by walking the message."""
    found = []

    def walk(message) -> None:
        for field, value in message.ListFields():
            if field.type != field.TYPE_MESSAGE:
                continue
            if hasattr(value, "DESCRIPTOR"):  # one message
                values = [value]
            else:  # a repeated field or a map of messages
                values = list(value.values()) if hasattr(value, "values") else list(value)
            for item in values:
                if item.DESCRIPTOR.full_name == "temporal.api.common.v1.Payload":
                    found.append(item)
                elif item.DESCRIPTOR.full_name not in UNENCODED:
                    walk(item)

    walk(event)
    if event.HasField("marker_recorded_event_attributes"):  # a local activity's marker: its result is encoded, not
        core = event.marker_recorded_event_attributes.details["data"].payloads  # Core's bookkeeping (seq, attempt,
        assert {json.loads(p.data)["activity_type"] for p in core}  # activity type, times), which it writes itself
        found = [p for p in found if p not in core]
    return found


async def test_a_permit_history_holds_no_personal_data_in_clear(stack: Stack) -> None:
    for agency in ("heritage", "aviation", "police", "culture_ministry"):
        await stack.behave(agency, decision="approve", decision_delay_ms=100)
    body = demo_applications(first_feasible_day())[2]  # the foreign crew flying a drone in Kota Tua
    body["applicant"] = {**body["applicant"], "email": EMAIL, "phone": PHONE}
    body["foreign_crew"] = [{**body["foreign_crew"][0], "passport_number": PASSPORT}]
    response = await stack.submit(body, key=str(uuid.uuid4()))
    assert response.status_code == 202, response.text
    application_id = response.json()["id"]
    await stack.wait_for(application_id, lambda v: v["status"] == "awaiting_payment")

    # The codec client (what the API and the worker use) reads the workflow fine...
    handle = stack.temporal.get_workflow_handle(application_id)
    status = await handle.query(QUERY_STATUS, result_type=PermitStatusView)
    assert status.status == "awaiting_payment"
    assert {c.agency for c in status.clearances} == {"heritage", "aviation", "police", "culture_ministry"}

    # ...while the raw history, fetched by a client without the codec, shows no personal data anywhere.
    plain = Client(stack.temporal.service_client, namespace=stack.temporal.namespace)
    parent = await plain.get_workflow_handle(application_id).fetch_history()
    children = [e.child_workflow_execution_started_event_attributes.workflow_execution.workflow_id
                for e in parent.events if e.HasField("child_workflow_execution_started_event_attributes")]
    assert len(children) == 4
    histories = [parent] + [await plain.get_workflow_handle(child).fetch_history() for child in children]
    secrets = [PASSPORT, EMAIL, PHONE, PHONE.replace(" ", "")]
    payloads = []
    for history in histories:
        for event in history.events:
            raw = event.SerializeToString()
            assert not [s for s in secrets if s.encode() in raw], f"{history.workflow_id}: {event.event_type}"
            payloads += payloads_of(event)
    codec = stack.temporal.data_converter.payload_codec
    assert payloads and all(p.metadata["encoding"] == ENCODING for p in payloads)
    assert {p.metadata[KEY_ID].decode() for p in payloads} == {codec.key_id}
    # the application itself is in there, and opens with the key
    opened = b"".join(p.data for p in await codec.decode(payloads))
    assert all(s.encode() in opened for s in (PASSPORT, EMAIL, PHONE))

    # without the codec, the workflow's answers are ciphertext a plain client cannot read
    with pytest.raises(Exception, match="encoding"):
        await plain.get_workflow_handle(application_id).query(QUERY_STATUS, result_type=PermitStatusView)
