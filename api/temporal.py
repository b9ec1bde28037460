"""Talking to workflows by name, with Temporal's errors turned into problem documents."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog
from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
)
from temporalio.service import RPCError, RPCStatusCode

from api.problems import ApiProblem
from schemas.contracts import PermitWorkflowInput
from schemas.status import PermitStatusView

PERMIT_WORKFLOW = "PermitApplicationWorkflow"
CLEARANCE_WORKFLOW = "AgencyClearanceWorkflow"
STATUS_QUERY = "status"
RPC_TIMEOUT = timedelta(seconds=10)

log = structlog.get_logger("jfc.api")


def unavailable(err: Exception) -> ApiProblem:
    log.warning("workflow engine call failed", error_type=type(err).__name__, error=str(err))
    return ApiProblem(
        503,
        "workflow engine unavailable",
        "The workflow engine did not answer; try again in a moment (a retried request is safe).",
        kind="temporal-unavailable",
        headers={"Retry-After": "5"},
    )


async def describe(client: Client, workflow_id: str) -> WorkflowExecutionDescription | None:
    """The latest run of `workflow_id`, or None when there is none."""
    try:
        return await client.get_workflow_handle(workflow_id).describe(rpc_timeout=RPC_TIMEOUT)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise unavailable(err) from err


async def query_status(client: Client, application_id: str, *, not_found: ApiProblem) -> PermitStatusView:
    """The application's PermitStatusView from its workflow's "status" query."""
    handle = client.get_workflow_handle(application_id)
    try:
        return await handle.query(STATUS_QUERY, result_type=PermitStatusView, rpc_timeout=RPC_TIMEOUT)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise not_found from err
        raise unavailable(err) from err
    except (WorkflowQueryFailedError, WorkflowQueryRejectedError) as err:
        raise unavailable(err) from err


async def signal(
    client: Client,
    workflow_id: str,
    name: str,
    arg: Any,
    *,
    not_found: ApiProblem,
    closed: ApiProblem,
) -> None:
    """Signal a running workflow; `not_found` when it never existed, `closed` when it has already finished."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        await handle.signal(name, arg, rpc_timeout=RPC_TIMEOUT)
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise unavailable(err) from err
        description = await describe(client, workflow_id)
        if description is not None and description.status != WorkflowExecutionStatus.RUNNING:
            raise closed from err
        raise not_found from err


async def start_input(client: Client, application_id: str) -> PermitWorkflowInput | None:
    """The PermitWorkflowInput the application's current run started with, or None if it cannot be read."""
    handle = client.get_workflow_handle(application_id)
    try:
        async for event in handle.fetch_history_events(page_size=1, rpc_timeout=RPC_TIMEOUT):
            if not event.HasField("workflow_execution_started_event_attributes"):
                return None
            payloads = event.workflow_execution_started_event_attributes.input.payloads
            values = await client.data_converter.decode(list(payloads), [PermitWorkflowInput])
            value = values[0] if values else None
            return value if isinstance(value, PermitWorkflowInput) else None
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise unavailable(err) from err
    except Exception as err:  # a run started with another input shape (e.g. after continue-as-new)
        log.warning("cannot read the workflow's start input", error_type=type(err).__name__)
    return None
