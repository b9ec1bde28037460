"""Talking to workflows by name, with Temporal's errors turned into problem documents."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog
from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.problems import ApiProblem
from schemas.contracts import QUERY_STATUS, STATE_CONFLICT
from schemas.problems import Problem
from schemas.status import PermitStatusView

RPC_TIMEOUT = timedelta(seconds=10)
UPDATE_TIMEOUT = timedelta(seconds=30)  # an update may run activities (an amendment plans again) before it answers

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


async def query(client: Client, workflow_id: str, name: str, result_type: type, *, not_found: ApiProblem) -> Any:
    """The answer of the workflow's query `name`; `not_found` when there is no such workflow."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        return await handle.query(name, result_type=result_type, rpc_timeout=RPC_TIMEOUT)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise not_found from err
        raise unavailable(err) from err
    except (WorkflowQueryFailedError, WorkflowQueryRejectedError) as err:
        raise unavailable(err) from err


async def query_status(client: Client, application_id: str, *, not_found: ApiProblem) -> PermitStatusView:
    """The application's PermitStatusView from its workflow's "status" query."""
    return await query(client, application_id, QUERY_STATUS, PermitStatusView, not_found=not_found)


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


async def result(client: Client, workflow_id: str, result_type: type) -> Any | None:
    """The result of a workflow that completed, or None (still running, failed, cancelled, unknown)."""
    handle = client.get_workflow_handle(workflow_id, result_type=result_type)
    description = await describe(client, workflow_id)
    if description is None or description.status != WorkflowExecutionStatus.COMPLETED:
        return None
    try:
        return await handle.result(follow_runs=False, rpc_timeout=RPC_TIMEOUT)
    except (RPCError, WorkflowFailureError):
        return None


async def update(
    client: Client,
    application_id: str,
    name: str,
    arg: Any,
    *,
    update_id: str,
    result_type: type,
    not_found: ApiProblem,
    closed: ApiProblem,
) -> Any:
    """Run the workflow update `name` and return its result; `update_id` makes a retried call return the same result.

    A refusal by the workflow (its validator or handler raised ApplicationError) is a 409 problem when its type is
    STATE_CONFLICT (the application's state does not allow it now), else a 422 listing the workflow's problems.
    """
    handle = client.get_workflow_handle(application_id)
    try:
        return await handle.execute_update(name, arg, id=update_id, result_type=result_type, rpc_timeout=UPDATE_TIMEOUT)
    except WorkflowUpdateFailedError as err:
        raise update_refused(name, err.cause) from err
    except WorkflowUpdateRPCTimeoutOrCancelledError as err:
        raise unavailable(err) from err
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise unavailable(err) from err
        description = await describe(client, application_id)
        if description is not None and description.status != WorkflowExecutionStatus.RUNNING:
            raise closed from err
        raise not_found from err


def update_refused(name: str, cause: BaseException) -> ApiProblem:
    """The problem document for an update the workflow refused."""
    if not isinstance(cause, ApplicationError):
        log.warning("workflow update failed", update=name, error_type=type(cause).__name__, error=str(cause))
        return ApiProblem(
            500, "internal error", "Something went wrong on our side and has been logged; try again later.",
            kind="internal",
        )
    error_type = cause.type or ""
    conflict = error_type == STATE_CONFLICT
    message = cause.message or str(cause)
    log.info("workflow update refused", update=name, error_type=error_type, conflict=conflict)
    return ApiProblem(
        409 if conflict else 422,
        "not possible in the application's current state" if conflict else "refused by the application",
        f"{message}." if message and not message.endswith((".", "!", "?")) else message,
        kind="state-conflict" if conflict else "update-refused",
        problems=_detail_problems(cause),
    )


def _detail_problems(cause: ApplicationError) -> list[Problem]:
    """The field problems a workflow refused with (workflows.refusals: the first detail, `[{"path", "message"}]`)."""
    found: list[Problem] = []
    for detail in cause.details[:1]:
        for item in detail if isinstance(detail, list) else []:
            if isinstance(item, dict) and isinstance(item.get("path"), str) and isinstance(item.get("message"), str):
                found.append(Problem(path=item["path"], message=item["message"]))
    return found
