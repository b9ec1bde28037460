"""The applicant API: submit an application, read its status, download its permit."""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

import structlog
from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, ValidationError
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from api import temporal
from api.context import ApiContext, Context
from api.problems import ApiProblem, invalid_body, responses
from domain.ids import application_id_for_key, is_application_id
from domain.planning import intake_problems, plan_application
from schemas.application import PermitApplication
from schemas.contracts import SEARCH_ATTR_STATUS, ApplicationPlan, PermitWorkflowInput
from schemas.problems import Problem
from schemas.status import ApplicationStatus, PermitStatusView

MAX_BODY_BYTES = 1_000_000
MAX_KEY_LENGTH = 200
MEMO_BODY_HASH = "body_sha256"
STATUS_ATTRIBUTE = SearchAttributeKey.for_keyword(SEARCH_ATTR_STATUS)

router = APIRouter(prefix="/v1/permits", tags=["permits"])
log = structlog.get_logger("jfc.api")


class SubmissionAccepted(BaseModel):
    """The answer to a submission: where to watch the application."""

    id: str = Field(examples=["PRM-ABCDEFGHIJKL"])
    status: Literal["submitted"] = "submitted"
    status_url: str


_APPLICATION_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PermitApplication"}}},
    }
}


async def read_body(request: Request) -> bytes:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ApiProblem(413, "body too large", f"The body is {len(body)} bytes; the limit is {MAX_BODY_BYTES}.")
    return body


def not_found(application_id: str) -> ApiProblem:
    return ApiProblem(404, "application not found", f"There is no application {application_id}.", kind="not-found")


@router.post(
    "",
    status_code=202,
    response_model=SubmissionAccepted,
    summary="Submit a permit application",
    responses={
        **responses(400, 409, 413, 422, 503),
        202: {"description": "Accepted; the same Idempotency-Key always answers the same application"},
    },
    openapi_extra=_APPLICATION_BODY,
)
async def submit_application(
    request: Request,
    response: Response,
    ctx: Context,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Required. Any unique string; sending the same key again returns the same application.",
        ),
    ] = None,
) -> SubmissionAccepted:
    key = (idempotency_key or "").strip()
    if not key:
        raise ApiProblem(
            400,
            "Idempotency-Key header missing",
            "Send a unique Idempotency-Key header (e.g. a UUID) with each new application; "
            "retries with the same key return the same application.",
            kind="idempotency-key-missing",
        )
    if len(key) > MAX_KEY_LENGTH:
        raise ApiProblem(400, "Idempotency-Key too long", f"Use at most {MAX_KEY_LENGTH} characters.",
                         kind="idempotency-key-invalid")
    body = await read_body(request)
    try:
        app = PermitApplication.model_validate_json(body)
    except ValidationError as exc:
        raise invalid_body(exc, "application") from None

    application_id = application_id_for_key(key)
    structlog.contextvars.bind_contextvars(application_id=application_id)
    body_hash = hashlib.sha256(app.model_dump_json().encode()).hexdigest()
    accepted = SubmissionAccepted(id=application_id, status_url=status_url(ctx, application_id))
    response.headers["Location"] = accepted.status_url

    existing = await temporal.describe(ctx.temporal, application_id)
    if existing is not None:
        _check_same_body(await existing.memo_value(MEMO_BODY_HASH, None), body_hash, application_id)
        log.info("submission replayed", status=existing.status.name if existing.status else None)
        return accepted

    now = ctx.now()
    plan = plan_application(app, ctx.rules, now)
    problems = intake_problems(app, plan, ctx.today())
    if problems:
        raise ApiProblem(
            422,
            "invalid application",
            f"{len(problems)} problem(s) found; fix each field listed in `problems` and send it again.",
            kind="invalid-application",
            problems=problems,
        )
    if not plan.lead_time_ok and not app.expedite.requested:
        raise lead_time_problem(app, plan)

    try:
        await ctx.temporal.start_workflow(
            temporal.PERMIT_WORKFLOW,
            PermitWorkflowInput(
                application_id=application_id,
                application=app,
                submitted_at=now,
                callback_base_url=ctx.settings.public_base_url,
                public_base_url=ctx.settings.public_base_url,
            ),
            id=application_id,
            task_queue=ctx.settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            memo={MEMO_BODY_HASH: body_hash},
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(STATUS_ATTRIBUTE, ApplicationStatus.submitted.value)]
            ),
            rpc_timeout=temporal.RPC_TIMEOUT,
        )
    except WorkflowAlreadyStartedError:
        log.info("submission replayed after the application closed")
        return accepted
    except RPCError as err:
        raise temporal.unavailable(err) from err
    log.info(
        "application submitted",
        rule_set=plan.rule_set,
        agencies=[routed.agency.code.value for routed in plan.agencies],
        lead_time_business_days=plan.lead_time_business_days,
        lead_time_ok=plan.lead_time_ok,
        expedite=app.expedite.requested,
    )
    return accepted


def status_url(ctx: ApiContext, application_id: str) -> str:
    return f"{ctx.settings.public_base_url}/v1/permits/{application_id}"


def _check_same_body(stored: object, body_hash: str, application_id: str) -> None:
    if isinstance(stored, str) and stored != body_hash:
        raise ApiProblem(
            409,
            "Idempotency-Key already used for another application",
            f"This key already submitted application {application_id} with a different body. "
            "Use a new key for a new application; to change this one, send an amendment.",
            kind="idempotency-key-reused",
        )


def lead_time_problem(app: PermitApplication, plan: ApplicationPlan) -> ApiProblem:
    agencies = ", ".join(routed.agency.code.value for routed in plan.agencies) or "none"
    earliest = plan.earliest_feasible_start.isoformat()
    return ApiProblem(
        422,
        "lead time too short",
        f"The agencies this application needs ({agencies}) take {plan.lead_time_business_days} business days "
        f"(Asia/Jakarta, public holidays and cuti bersama excluded) before the first shoot day; "
        f"{app.first_shoot_date.isoformat()} is too soon. The earliest feasible first shoot day is {earliest}. "
        'Move the shoot dates, or ask for an officer to expedite with "expedite": '
        '{"requested": true, "reason": "..."}.',
        kind="lead-time-too-short",
        problems=[
            Problem(
                path=_first_day_path(app),
                message=f"the first shoot day must be on or after {earliest} "
                f"({plan.lead_time_business_days} business days of lead time)",
            )
        ],
        earliest_feasible_start=earliest,
    )


def _first_day_path(app: PermitApplication) -> str:
    first = app.first_shoot_date
    for i, location in enumerate(app.locations):
        for j, day in enumerate(location.days):
            if day.date == first:
                return f"locations[{i}].days[{j}].date"
    return "locations"


@router.get(
    "/{application_id}",
    response_model=PermitStatusView,
    summary="Where an application stands",
    responses=responses(404, 503),
)
async def get_status(application_id: str, ctx: Context) -> PermitStatusView:
    if not is_application_id(application_id):
        raise not_found(application_id)
    structlog.contextvars.bind_contextvars(application_id=application_id)
    return await temporal.query_status(ctx.temporal, application_id, not_found=not_found(application_id))


@router.get(
    "/{application_id}/document",
    response_class=FileResponse,
    summary="The permit PDF",
    responses={
        **responses(404, 503),
        200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
              "description": "The permit document (Indonesian and English)"},
    },
)
async def get_document(application_id: str, ctx: Context) -> FileResponse:
    if not is_application_id(application_id):
        raise not_found(application_id)
    structlog.contextvars.bind_contextvars(application_id=application_id)
    status = await temporal.query_status(ctx.temporal, application_id, not_found=not_found(application_id))
    if status.permit is None:
        raise ApiProblem(
            404,
            "no permit issued yet",
            f"Application {application_id} is {status.status.value}; the document exists once the permit is issued.",
            kind="no-permit-yet",
        )
    path = ctx.settings.documents_dir / f"{application_id}.pdf"
    if not path.is_file():
        log.warning("permit document missing", permit_number=status.permit.number)
        raise ApiProblem(
            404,
            "permit document not available",
            f"Permit {status.permit.number} is issued but its document is not available yet; try again shortly.",
            kind="document-missing",
        )
    return FileResponse(path, media_type="application/pdf", filename=f"{status.permit.number}.pdf")

