"""The incentive API for producers (design §6): apply, follow, claim, withdraw, download certificates.

An organisation sees only its own incentives, officers and auditors every one; agency clerks none (403).
An incentive the caller may not see answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

import structlog
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, ValidationError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from api import temporal
from api.access import Applicant, IdempotencyKey, record
from api.actions import update_id
from api.auth import auth_responses, require_roles
from api.context import ApiContext, Context
from api.permits import read_body
from api.problems import ApiProblem, invalid_body, responses
from api.reports import ReadModel
from domain.ids import incentive_id_for_key, is_application_id, is_incentive_id
from schemas.contracts import (
    FEATURE_CALL_WORKFLOW,
    INCENTIVE_WORKFLOW,
    QUERY_STATUS,
    UPDATE_CLAIM,
    UPDATE_WITHDRAW,
    feature_call_workflow_id,
)
from schemas.incentive_contracts import CallWorkflowInput, ClaimSubmission, IncentiveWorkflowInput, Withdrawal
from schemas.incentives import (
    CertificateKind,
    Claim,
    IncentiveApplication,
    IncentiveStatus,
    IncentiveStatusView,
    PermitFacts,
    Programme,
    WithdrawBody,
)
from schemas.problems import Problem
from store import incentive_reports
from store.accounts import Principal, Role

MEMO_BODY_HASH = "body_sha256"

router = APIRouter(prefix="/v1/incentives", tags=["incentives"])
log = structlog.get_logger("jfc.api")

Reader = Annotated[Principal, Depends(require_roles(Role.applicant, Role.officer, Role.auditor))]
_RESPONSES = {**responses(404, 503), **auth_responses()}


class IncentiveAccepted(BaseModel):
    id: str = Field(examples=["INC-ABCDEFGHIJKL"])
    status: Literal["submitted"] = "submitted"
    status_url: str


def not_found(incentive_id: str) -> ApiProblem:
    return ApiProblem(404, "incentive not found", "No incentive with this id exists among those your account may "
                      "see; check the id in the URL.", kind="not-found")


def _closed(incentive_id: str) -> ApiProblem:
    return ApiProblem(409, "incentive already closed", f"Incentive {incentive_id} has ended; it can no longer be "
                      "changed.", kind="incentive-closed")


async def visible_incentive(ctx: ApiContext, principal: Principal, incentive_id: str) -> IncentiveStatusView:
    """The incentive's status view when the caller may see it; 404 otherwise."""
    missing = not_found(incentive_id)
    if not is_incentive_id(incentive_id):
        raise missing
    structlog.contextvars.bind_contextvars(application_id=incentive_id)
    view = await temporal.query(ctx.temporal, incentive_id, QUERY_STATUS, IncentiveStatusView, not_found=missing)
    if principal.is_applicant and (view.organisation_id is None or view.organisation_id != principal.organisation_id):
        raise missing
    return view


async def update(ctx: ApiContext, incentive_id: str, name: str, arg: object, key: str) -> IncentiveStatusView:
    return await temporal.update(ctx.temporal, incentive_id, name, arg, update_id=update_id(name, key),
                                 result_type=IncentiveStatusView, not_found=not_found(incentive_id),
                                 closed=_closed(incentive_id))


@router.post(
    "", status_code=202, response_model=IncentiveAccepted,
    summary="Apply for an incentive (applicant accounts)",
    description="`GET` the status URL for the eligibility rules, each passed or failed, the estimate and the "
    "reservation. The same Idempotency-Key (within the organisation) answers the same incentive.",
    responses={**responses(400, 409, 413, 422, 503), **auth_responses()},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/IncentiveApplication"}}}}},
)
async def apply(request: Request, response: Response, ctx: Context, principal: Applicant,
                key: IdempotencyKey) -> IncentiveAccepted:
    try:
        application = IncentiveApplication.model_validate_json(await read_body(request))
    except ValidationError as exc:
        raise invalid_body(exc, "incentive application") from None
    accepted = await apply_for_incentive(request, ctx, principal, application, key)
    response.headers["Location"] = accepted.status_url
    return accepted


async def apply_for_incentive(request: Request, ctx: ApiContext, principal: Principal,
                              application: IncentiveApplication, key: str) -> IncentiveAccepted:
    """Start the incentive workflow for `application` (the JSON API and the web pages); audited. The same key (within
    the organisation) answers the same incentive; with another body, 409."""
    organisation_id = principal.organisation_id or ""
    incentive_id = incentive_id_for_key(key, scope=organisation_id)
    structlog.contextvars.bind_contextvars(application_id=incentive_id)
    body_hash = hashlib.sha256(application.model_dump_json().encode()).hexdigest()
    accepted = IncentiveAccepted(id=incentive_id, status_url=f"{ctx.settings.public_base_url}/v1/incentives/"
                                                            f"{incentive_id}")
    existing = await temporal.describe(ctx.temporal, incentive_id)
    if existing is not None:
        stored = await existing.memo_value(MEMO_BODY_HASH, None)
        if isinstance(stored, str) and stored != body_hash:
            raise ApiProblem(409, "Idempotency-Key already used for another incentive application",
                             f"This key already applied as {incentive_id} with a different body; use a new key.",
                             kind="idempotency-key-reused")
        return accepted
    programme = ctx.incentives.get(application.programme.value)
    permit = await _permit_facts(ctx, application.permit_id, principal.organisation_id)
    if application.programme == Programme.first_feature_fund:
        await _open_call(ctx, application)
    try:
        await ctx.temporal.start_workflow(
            INCENTIVE_WORKFLOW,
            IncentiveWorkflowInput(
                incentive_id=incentive_id, application=application, programme=programme,
                organisation_id=principal.organisation_id, submitted_at=ctx.now(), permit=permit,
                callback_base_url=ctx.settings.public_base_url, public_base_url=ctx.settings.public_base_url,
                audit=ctx.incentives.audit, treasury=ctx.incentives.treasury,
            ),
            id=incentive_id, task_queue=ctx.settings.task_queue, memo={MEMO_BODY_HASH: body_hash},
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE, rpc_timeout=temporal.RPC_TIMEOUT,
        )
    except WorkflowAlreadyStartedError:
        return accepted
    except RPCError as err:
        raise temporal.unavailable(err) from err
    log.info("incentive applied", programme=application.programme.value, fiscal_year=application.fiscal_year)
    await record(request, ctx, actor=principal.actor, action="incentive_applied", application_id=incentive_id,
                 detail={"programme": application.programme.value, "permit_id": application.permit_id,
                         "fiscal_year": application.fiscal_year}, source_key=f"api:incentive:{incentive_id}:{key}")
    return accepted


async def _permit_facts(ctx: ApiContext, permit_id: str, organisation_id: str | None) -> PermitFacts | None:
    """The linked permit when it is the applicant's own; None otherwise, whether it exists or not (eligibility then
    names the rule, and nobody learns of another organisation's permit)."""
    if not is_application_id(permit_id):
        raise ApiProblem(422, "invalid permit_id", "permit_id is the id of your permit application (PRM-…).",
                         kind="invalid-body", problems=[Problem(path="permit_id", message="not a permit application id "
                                                                                           "(PRM-…)")])
    try:
        view = await temporal.query_status(ctx.temporal, permit_id, not_found=not_found(permit_id))
    except ApiProblem as problem:
        if problem.document.status == 404:
            return None
        raise
    if view.organisation_id is None or view.organisation_id != organisation_id:
        return None
    return PermitFacts(
        permit_id=view.id, organisation_id=view.organisation_id, status=view.status.value,
        production_title=view.production_title, production_kind="", applicant_company=view.applicant_company,
        shoot_dates=sorted({day.date for location in view.locations for day in location.days}),
    )


async def _open_call(ctx: ApiContext, application: IncentiveApplication) -> None:
    """Make sure the named call's workflow runs (eligibility refuses a call that does not exist or is closed)."""
    programme = ctx.incentives.get(Programme.first_feature_fund.value)
    call_id = application.project.call_id if application.project else None
    call = next((c for c in (programme.first_feature.calls if programme.first_feature else []) if c.id == call_id),
                None)
    if call is None:
        return
    try:
        await ctx.temporal.start_workflow(
            FEATURE_CALL_WORKFLOW, CallWorkflowInput(call=call, programme=programme),
            id=feature_call_workflow_id(call.id), task_queue=ctx.settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING, rpc_timeout=temporal.RPC_TIMEOUT)
    except WorkflowAlreadyStartedError:
        pass  # the call has closed: the application will be told
    except RPCError as err:
        raise temporal.unavailable(err) from err


@router.get("", response_model=incentive_reports.IncentivePage, summary="Incentives the caller may see, newest first",
            responses={**responses(422, 503), **auth_responses()})
async def list_incentives(
    principal: Reader, pool: ReadModel,
    status: Annotated[IncentiveStatus | None, Query()] = None,
    programme: Annotated[Programme | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> incentive_reports.IncentivePage:
    try:
        return await incentive_reports.list_incentives(
            pool, organisation_id=(principal.organisation_id or "") if principal.is_applicant else None,
            status=status.value if status else None, programme=programme.value if programme else None,
            cursor=cursor, limit=limit)
    except ValueError as err:
        raise ApiProblem(422, "invalid cursor", f"{err}.", kind="invalid-request",
                         problems=[Problem(path="cursor", message=str(err))]) from None


@router.get("/{incentive_id}", response_model=IncentiveStatusView, summary="Where an incentive stands",
            responses=_RESPONSES)
async def get_incentive(incentive_id: str, ctx: Context, principal: Reader) -> IncentiveStatusView:
    return await visible_incentive(ctx, principal, incentive_id)


@router.post("/{incentive_id}/claim", response_model=IncentiveStatusView,
             summary="Submit the audited claim, the short report or a milestone report",
             description="Location rebate: the expenditure lines (category, supplier, amount, date, in Jakarta or "
             "not) and their total. Shooting-days grant: `report`. First-feature fund: `milestone` and `report`.",
             responses={**_RESPONSES, **responses(400, 409, 422)})
async def claim(incentive_id: str, body: Claim, request: Request, ctx: Context, principal: Applicant,
                key: IdempotencyKey) -> IncentiveStatusView:
    await visible_incentive(ctx, principal, incentive_id)
    view = await update(ctx, incentive_id, UPDATE_CLAIM, ClaimSubmission(claim=body, actor=principal.actor), key)
    await record(request, ctx, actor=principal.actor, action="incentive_claimed", application_id=incentive_id,
                 detail={"lines": len(body.lines), "total_idr": body.total_idr, "milestone": body.milestone},
                 source_key=f"api:claim:{incentive_id}:{key}")
    return view


@router.post("/{incentive_id}/withdraw", response_model=IncentiveStatusView, summary="Withdraw an incentive",
             description="What is still reserved goes back to the fund (and may promote a waiting application).",
             responses={**_RESPONSES, **responses(400, 409, 422)})
async def withdraw(incentive_id: str, body: WithdrawBody, request: Request, ctx: Context, principal: Applicant,
                   key: IdempotencyKey) -> IncentiveStatusView:
    await visible_incentive(ctx, principal, incentive_id)
    view = await update(ctx, incentive_id, UPDATE_WITHDRAW, Withdrawal(reason=body.reason, actor=principal.actor),
                        key)
    await record(request, ctx, actor=principal.actor, action="incentive_withdrawn", application_id=incentive_id,
                 detail={"status": view.status.value}, source_key=f"api:withdraw:{incentive_id}:{key}")
    return view


@router.get("/{incentive_id}/certificates/{kind}", response_class=FileResponse,
            summary="The interim or final certificate (PDF)",
            responses={**_RESPONSES, 200: {"content": {"application/pdf": {"schema": {"type": "string",
                                                                                       "format": "binary"}}}}})
async def certificate(incentive_id: str, kind: CertificateKind, ctx: Context, principal: Reader) -> FileResponse:
    view = await visible_incentive(ctx, principal, incentive_id)
    issued = next((c for c in view.certificates if c.kind == kind), None)
    path = ctx.settings.documents_dir / f"{incentive_id}-{kind.value}.pdf"
    if issued is None or not path.is_file():
        raise ApiProblem(404, "no certificate yet", f"Incentive {incentive_id} ({view.status.value}) has no {kind.value} "
                         "certificate yet.", kind="no-certificate-yet")
    return FileResponse(path, media_type="application/pdf", filename=f"{issued.number}.pdf")

