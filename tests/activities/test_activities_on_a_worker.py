"""The activities through a real worker and the pydantic data converter, as the workflows will call them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest
from activity_samples import REQUEST_KEY, RULES, FakeAgency, make_agency
from fastapi import Response
from temporalio import workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities import all_activities
from activities.errors import AGENCY_REFUSED, NON_RETRYABLE
from schemas import contracts
from schemas.agency_api import ClearanceRequest
from schemas.contracts import SlaDeadlines, SlaDeadlinesInput, SubmitClearanceInput, SubmitClearanceResult

ACCEPTED = dt.datetime(2026, 12, 21, 16, 30, tzinfo=dt.UTC)


@workflow.defn(sandboxed=False)
class SubmitThenDeadlines:
    @workflow.run
    async def run(self, submit: SubmitClearanceInput) -> tuple[SubmitClearanceResult, SlaDeadlines]:
        retry = RetryPolicy(initial_interval=dt.timedelta(milliseconds=100), non_retryable_error_types=list(NON_RETRYABLE))
        receipt = await workflow.execute_activity(
            contracts.SUBMIT_CLEARANCE, submit, result_type=SubmitClearanceResult,
            start_to_close_timeout=dt.timedelta(seconds=10), retry_policy=retry,
        )  # fmt: skip
        deadlines = await workflow.execute_activity(
            contracts.COMPUTE_SLA_DEADLINES, SlaDeadlinesInput(accepted_at=ACCEPTED, sla_days=5, grace_days=5),
            result_type=SlaDeadlines, start_to_close_timeout=dt.timedelta(seconds=10),
        )  # fmt: skip
        return receipt, deadlines


async def run_workflow(env: WorkflowEnvironment, task_queue: str, submit: SubmitClearanceInput, documents: Path):
    async with httpx.AsyncClient() as http:
        async with Worker(
            env.client, task_queue=task_queue, workflows=[SubmitThenDeadlines],
            activities=all_activities(http, RULES, documents), workflow_runner=UnsandboxedWorkflowRunner(),
        ):  # fmt: skip
            return await env.client.execute_workflow(
                SubmitThenDeadlines.run, submit, id=f"wf-{task_queue}", task_queue=task_queue
            )


def submit_to(fake: FakeAgency, request: ClearanceRequest) -> SubmitClearanceInput:
    return SubmitClearanceInput(agency=make_agency(fake.url + "/agencies/parks"), request=request)


async def test_an_outage_is_retried_with_the_same_key_and_results_round_trip(
    time_env: WorkflowEnvironment, task_queue: str, fake_agency: FakeAgency, clearance_request: ClearanceRequest, tmp_path
):
    fake_agency.script.append(Response("busy", status_code=503, headers={"Retry-After": "1"}))
    receipt, deadlines = await run_workflow(time_env, task_queue, submit_to(fake_agency, clearance_request), tmp_path)
    assert receipt.reference == f"REF-{REQUEST_KEY}"
    assert [s.headers["idempotency-key"] for s in fake_agency.seen] == [REQUEST_KEY, REQUEST_KEY]
    assert deadlines.due_at == dt.datetime(2026, 12, 30, 9, tzinfo=dt.UTC)  # 16:00 WIB


async def test_a_refusal_fails_the_workflow_without_retry(
    time_env: WorkflowEnvironment, task_queue: str, fake_agency: FakeAgency, clearance_request: ClearanceRequest, tmp_path
):
    fake_agency.script.append(Response('{"detail": "no shooting on the lawn"}', status_code=422))
    with pytest.raises(WorkflowFailureError) as caught:
        await run_workflow(time_env, task_queue, submit_to(fake_agency, clearance_request), tmp_path)
    activity_error = caught.value.cause
    assert isinstance(activity_error, ActivityError)
    assert isinstance(activity_error.cause, ApplicationError)
    assert activity_error.cause.type == AGENCY_REFUSED and activity_error.cause.non_retryable
    assert "no shooting on the lawn" in activity_error.cause.message
    assert len(fake_agency.seen) == 1
