"""What an applicant does to its application once submitted: amend it, answer a question, cancel it.

Each is a workflow update whose id is the request's Idempotency-Key, so a retried POST answers the same
result and acts once. The applicant of the owning organisation may call them, and an officer may act on the
applicant's behalf (a phone call, a letter); agency clerks and auditors may not (403).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api import temporal
from api.access import (
    ApplicantOrOfficer,
    IdempotencyKey,
    not_found,
    record,
    shown_to,
    visible_status,
)
from api.auth import auth_responses
from api.context import ApiContext, Context
from api.permits import _APPLICATION_BODY, parse_application, read_body
from api.problems import ApiProblem, responses
from domain.planning import intake_problems, plan_application
from domain.webhook_urls import webhook_url_problems
from schemas.contracts import UPDATE_AMEND, UPDATE_ANSWER, UPDATE_CANCEL
from schemas.application import PermitApplication
from schemas.decisions import (
    Amendment,
    AmendmentResult,
    CancelRequest,
    InformationAnswer,
)
from schemas.status import PermitStatusView
from store.accounts import Principal

router = APIRouter(prefix="/v1/permits", tags=["applicant actions"])

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

_ACTION_RESPONSES = {**responses(400, 404, 409, 422, 503), **auth_responses()}


class InformationBody(BaseModel):
    """The applicant's answer to an information request (`request_id` as the status view names it)."""

    model_config = ConfigDict(extra="forbid")

    request_id: Annotated[Text, Field(max_length=200, description="The clearance's `information_request_id`")]
    answer: Annotated[Text, Field(max_length=10_000)]


class CancelBody(BaseModel):
    """Why the applicant cancels; every open request is then withdrawn at its agency."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[Text, Field(max_length=2000)]


def closed(application_id: str) -> ApiProblem:
    return ApiProblem(
        409,
        "application already closed",
        f"Application {application_id} has finished; it can no longer be changed.",
        kind="application-closed",
    )


def update_id(name: str, key: str) -> str:
    return f"{name}:{key}"


async def _update(ctx: ApiContext, application_id: str, name: str, arg: object, key: str, result_type: type) -> object:
    return await temporal.update(
        ctx.temporal, application_id, name, arg, update_id=update_id(name, key), result_type=result_type,
        not_found=not_found(application_id), closed=closed(application_id),
    )


@router.post(
    "/{application_id}/amendments",
    response_model=AmendmentResult,
    summary="Amend an application (dates, locations, crew, equipment)",
    description="The body is the whole changed application, validated like a submission. Only the agencies whose "
    "inputs changed are asked again; the others keep their decisions. A refused amendment changes nothing.",
    responses={**_ACTION_RESPONSES, **responses(413)},
    openapi_extra=_APPLICATION_BODY,
)
async def amend(
    application_id: str, request: Request, ctx: Context, principal: ApplicantOrOfficer, key: IdempotencyKey
) -> AmendmentResult:
    await visible_status(ctx, principal, application_id)  # 404 before any body problem
    application = parse_application(await read_body(request))
    return await amend_application(request, ctx, principal, application_id, application, key)


async def amend_application(request: Request, ctx: ApiContext, principal: Principal, application_id: str,
                            application: PermitApplication, key: str) -> AmendmentResult:
    """Amend the application as `principal` (the JSON API and the web pages): checked like a submission; audited."""
    await visible_status(ctx, principal, application_id)
    problems = intake_problems(application, plan_application(application, ctx.rules, ctx.now()), ctx.today())
    problems += await webhook_url_problems(application.applicant.webhook_url,
                                           allow_loopback=ctx.settings.allow_loopback_webhooks)
    if problems:
        raise ApiProblem(
            422,
            "invalid amendment",
            f"{len(problems)} problem(s) found; fix each field listed in `problems` and send it again.",
            kind="invalid-application",
            problems=problems,
        )
    result = await _update(
        ctx, application_id, UPDATE_AMEND, Amendment(application=application, actor=principal.actor), key,
        AmendmentResult,
    )
    assert isinstance(result, AmendmentResult)
    await record(request, ctx, actor=principal.actor, action="application_amended", application_id=application_id,
                 detail=result.model_dump(mode="json"), source_key=f"api:amend:{application_id}:{key}")
    return result


@router.post(
    "/{application_id}/information",
    response_model=PermitStatusView,
    summary="Answer an agency's or officer's information request",
    description="Resumes that clearance's SLA clock. `request_id` is the clearance's `information_request_id`.",
    responses=_ACTION_RESPONSES,
)
async def answer_information(
    application_id: str,
    body: InformationBody,
    request: Request,
    ctx: Context,
    principal: ApplicantOrOfficer,
    key: IdempotencyKey,
) -> PermitStatusView:
    return await answer_request(request, ctx, principal, application_id, body, key)


async def answer_request(
    request: Request, ctx: ApiContext, principal: Principal, application_id: str, body: InformationBody, key: str
) -> PermitStatusView:
    """Answer an information request as `principal` (the JSON API and the web pages); audited."""
    await visible_status(ctx, principal, application_id)
    result = await _update(
        ctx, application_id, UPDATE_ANSWER, InformationAnswer(request_id=body.request_id, answer=body.answer, actor=principal.actor), key,
        PermitStatusView,
    )
    assert isinstance(result, PermitStatusView)
    await record(request, ctx, actor=principal.actor, action="information_answered", application_id=application_id,
                 detail={"request_id": body.request_id}, source_key=f"api:answer:{application_id}:{key}")
    return shown_to(principal, result)


@router.post(
    "/{application_id}/cancel",
    response_model=PermitStatusView,
    summary="Cancel an application",
    description="Every open request is withdrawn at its agency (retried through outages); an issued permit turns "
    "`cancelled` on the verify page. The history is kept.",
    responses=_ACTION_RESPONSES,
)
async def cancel(
    application_id: str,
    body: CancelBody,
    request: Request,
    ctx: Context,
    principal: ApplicantOrOfficer,
    key: IdempotencyKey,
) -> PermitStatusView:
    return await cancel_application(request, ctx, principal, application_id, body, key)


async def cancel_application(
    request: Request, ctx: ApiContext, principal: Principal, application_id: str, body: CancelBody, key: str
) -> PermitStatusView:
    """Cancel the application as `principal` (the JSON API and the web pages); audited."""
    await visible_status(ctx, principal, application_id)
    result = await _update(
        ctx, application_id, UPDATE_CANCEL, CancelRequest(reason=body.reason, actor=principal.actor), key,
        PermitStatusView,
    )
    assert isinstance(result, PermitStatusView)
    await record(request, ctx, actor=principal.actor, action="application_cancelled", application_id=application_id,
                 detail={"status": result.status.value}, source_key=f"api:cancel:{application_id}:{key}")
    return shown_to(principal, result)
