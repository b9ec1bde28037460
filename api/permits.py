"""The applicant API: submit an application, read its status, download its permit.

Who may do what is in api.access: applicants submit for their organisation; everyone with an account reads
what their role lets them see (another organisation's application is a 404, never a 403).
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Literal

import structlog
from fastapi import APIRouter, Request, Response
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

from activities.documents import render_agency_copy
from api import temporal
from api.access import Applicant, IdempotencyKey, record, shown_to, visible_status
from api.auth import CurrentPrincipal, auth_responses
from api.context import ApiContext, Context
from api.problems import ApiProblem, invalid_body, responses
from domain.ids import application_id_for_key
from domain.planning import intake_problems, plan_application, with_calendar
from domain.webhook_urls import webhook_url_problems
from schemas.application import PermitApplication
from schemas.contracts import PERMIT_WORKFLOW, SEARCH_ATTR_STATUS, ApplicationPlan, PermitWorkflowInput
from schemas.problems import Problem
from schemas.status import ApplicationStatus, PermitStatusView
from store.accounts import Principal

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
    """The raw body; its size and text were checked at the edge (api.edge) before any route ran."""
    return await request.body()


def parse_application(body: bytes) -> PermitApplication:
    """The body as a PermitApplication; 422 problem listing every invalid field with its path."""
    try:
        return PermitApplication.model_validate_json(body)
    except ValidationError as exc:
        raise invalid_body(exc, "application") from None


@router.post(
    "",
    status_code=202,
    response_model=SubmissionAccepted,
    summary="Submit a permit application (applicant accounts)",
    description="The application belongs to the caller's organisation. The same Idempotency-Key (within the "
    "organisation) always answers the same application, never a second one.",
    responses={
        **responses(400, 409, 413, 422, 503),
        **auth_responses(),
        202: {"description": "Accepted; the same Idempotency-Key always answers the same application"},
    },
    openapi_extra=_APPLICATION_BODY,
)
async def submit_application(
    request: Request,
    response: Response,
    ctx: Context,
    principal: Applicant,
    key: IdempotencyKey,
) -> SubmissionAccepted:
    accepted = await submit(request, ctx, principal, parse_application(await read_body(request)), key)
    response.headers["Location"] = accepted.status_url
    return accepted


async def submit(
    request: Request, ctx: ApiContext, principal: Principal, app: PermitApplication, key: str
) -> SubmissionAccepted:
    """Start the application's workflow for the applicant's organisation (or answer the one `key` started);
    422 problems for invalid fields or a lead time too short, 409 when `key` started another application.
    The JSON API and the web pages both submit through here."""
    organisation_id = principal.organisation_id or ""
    application_id = application_id_for_key(key, scope=organisation_id)
    structlog.contextvars.bind_contextvars(application_id=application_id)
    body_hash = hashlib.sha256(app.model_dump_json().encode()).hexdigest()
    accepted = SubmissionAccepted(id=application_id, status_url=status_url(ctx, application_id))
    audit = {"organisation_id": organisation_id, "expedite": app.expedite.requested}

    async def audited() -> SubmissionAccepted:
        await record(request, ctx, actor=principal.actor, action="application_submitted",
                     application_id=application_id, detail=audit,
                     source_key=f"api:submit:{application_id}:{key}")
        return accepted

    existing = await temporal.describe(ctx.temporal, application_id)
    if existing is not None:
        _check_same_body(await existing.memo_value(MEMO_BODY_HASH, None), body_hash, application_id)
        log.info("submission replayed", status=existing.status.name if existing.status else None)
        return await audited()

    now = ctx.now()
    plan = plan_application(app, ctx.rules, now)
    problems = intake_problems(app, plan, ctx.today())
    problems += await webhook_url_problems(
        app.applicant.webhook_url, allow_loopback=ctx.settings.allow_loopback_webhooks
    )
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
    plan = with_calendar(plan, app, now)  # the workflow starts from this plan: no planning of its own

    try:
        await ctx.temporal.start_workflow(
            PERMIT_WORKFLOW,
            PermitWorkflowInput(
                application_id=application_id,
                application=app,
                organisation_id=principal.organisation_id,
                submitted_at=now,
                callback_base_url=ctx.settings.public_base_url,
                public_base_url=ctx.settings.public_base_url,
                plan=plan,
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
        return await audited()
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
    audit.update(rule_set=plan.rule_set, agencies=[routed.agency.code.value for routed in plan.agencies])
    return await audited()


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
    description="Applicants see their organisation's applications; officers and auditors every one; an agency "
    "clerk those routed to its agency, with only its own clearance. Anything else is a 404.",
    responses={**responses(404, 503), **auth_responses(forbidden=False)},
)
async def get_status(application_id: str, ctx: Context, principal: CurrentPrincipal) -> PermitStatusView:
    return shown_to(principal, await visible_status(ctx, principal, application_id))


@router.get(
    "/{application_id}/document",
    response_class=FileResponse,
    summary="The permit PDF",
    description="For the owning organisation, officers, auditors and the agencies the application was routed to. "
    "An agency clerk gets its agency's copy, made on request: the permit as last issued, with only its own "
    "clearance (reference, outcome, note, conditions).",
    responses={
        **responses(404, 503),
        **auth_responses(forbidden=False),
        200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
              "description": "The permit document (Indonesian and English)"},
    },
)
async def get_document(application_id: str, ctx: Context, principal: CurrentPrincipal) -> Response:
    status = await visible_status(ctx, principal, application_id)
    if status.permit is None:
        raise ApiProblem(
            404,
            "no permit issued yet",
            f"Application {application_id} is {status.status.value}; the document exists once the permit is issued.",
            kind="no-permit-yet",
        )
    if principal.is_agency:  # the full document carries every agency's references, conditions and notes
        agency = principal.agency or ""
        pdf = await asyncio.to_thread(render_agency_copy, status, agency)
        log.info("agency copy of the permit made", permit_number=status.permit.number, agency=agency)
        return Response(pdf, media_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="{status.permit.number}-{agency}.pdf"',
            "Cache-Control": "private, no-store"})
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
