"""Who may see and change which application, what each role is shown of it, and the audit of what they did.

The rules (the design's roles, enforced by every route):
- an applicant sees and changes only its organisation's applications;
- an officer sees everything and acts on everything;
- an agency clerk sees only the applications routed to its agency, and in them only its own clearance; never acts;
- an auditor reads everything and changes nothing.

An application the caller may not see answers 404, exactly like one that does not exist, so nobody
learns that another organisation's application is there; a role that may never call a route answers 403.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import AsyncIterator
from typing import Annotated, Any

import asyncpg
import structlog
from fastapi import Depends, Header, Request

from api import temporal
from api.auth import CurrentPrincipal, require_roles
from api.context import ApiContext
from api.problems import ApiProblem
from domain.ids import is_application_id
from schemas.status import ClearanceStatus, ClearanceView, PermitStatusView
from store import audit, idempotency
from store.accounts import Principal, Role
from store.idempotency import KeyUse

MAX_KEY_LENGTH = 200
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_DESCRIPTION = (
    "Required. Any unique string (e.g. a UUID) of at most 200 characters; sending the same key again returns "
    "the first answer instead of acting twice."
)

log = structlog.get_logger("jfc.api")

# Dependencies for routes that only some roles may call (403 for the others).
Staff = Annotated[Principal, Depends(require_roles(Role.officer, Role.auditor))]
Officer = Annotated[Principal, Depends(require_roles(Role.officer))]
Applicant = Annotated[Principal, Depends(require_roles(Role.applicant))]
ApplicantOrOfficer = Annotated[Principal, Depends(require_roles(Role.applicant, Role.officer))]
Reader = Annotated[Principal, Depends(require_roles(Role.officer, Role.auditor, Role.agency))]


def not_found(application_id: str) -> ApiProblem:
    """The same answer for an application that does not exist and one the caller may not see."""
    return ApiProblem(
        404, "application not found",
        "No application with this id exists among those your account may see; check the id in the URL.",
        kind="not-found",
    )


def routed_agencies(view: PermitStatusView) -> set[str]:
    return {clearance.agency for clearance in view.clearances}


def may_see(principal: Principal, view: PermitStatusView) -> bool:
    return principal.may_see(organisation_id=view.organisation_id, agencies=routed_agencies(view))


async def visible_status(ctx: ApiContext, principal: Principal, application_id: str) -> PermitStatusView:
    """The application's full status view when the caller may see it; 404 problem otherwise (or when unknown)."""
    missing = not_found(application_id)
    if not is_application_id(application_id):
        raise missing
    structlog.contextvars.bind_contextvars(application_id=application_id)
    view = await temporal.query_status(ctx.temporal, application_id, not_found=missing)
    if not may_see(principal, view):
        log.info("application hidden from caller", role=str(principal.role), account_id=principal.account_id)
        raise missing
    return view


def shown_to(principal: Principal, view: PermitStatusView) -> PermitStatusView:
    """What `principal` is shown of an application it may see: an agency clerk only its own clearance (of the
    current and of the issued revision), the timeline events naming no other agency, its own next deadline, and
    no payments."""
    if not principal.is_agency:
        return view
    own = principal.agency or ""
    issued_agencies = {c.agency for c in view.issued.clearances} if view.issued else set()
    others = sorted((routed_agencies(view) | issued_agencies) - {own})
    mentions_other = _mentions(others)
    clearances = [c for c in view.clearances if c.agency == own]
    return view.model_copy(update={
        "clearances": clearances,
        "issued": view.issued.model_copy(update={"clearances": [c for c in view.issued.clearances if c.agency == own]})
        if view.issued else None,
        "timeline": [
            e for e in view.timeline
            if not (mentions_other and (mentions_other.search(e.event) or mentions_other.search(e.detail)))
        ],
        "next_deadline": _own_deadline(clearances) if view.next_deadline is not None else None,
        "payments": [],  # the applicant's money is not the agency's business
    })


def _own_deadline(clearances: list[ClearanceView]) -> dt.datetime | None:
    """The earliest open deadline of these clearances: a due time, or the applicant's answer to an information
    request (the application's own next deadline may be another agency's, or the applicant's payment)."""
    found = [
        c.information_deadline_at if c.status == ClearanceStatus.information_required else c.due_at
        for c in clearances if not c.status.is_final and c.lapsed_at is None
    ]
    return min((d for d in found if d is not None), default=None)


def _mentions(codes: list[str]) -> re.Pattern[str] | None:
    if not codes:
        return None
    return re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(re.escape(code) for code in codes) + r")(?![A-Za-z0-9_])")


# ---- Idempotency-Key ----------------------------------------------------------------------


async def idempotency_key(
    request: Request,
    principal: CurrentPrincipal,
    key: Annotated[
        str | None,
        Header(
            alias=IDEMPOTENCY_HEADER,
            description=IDEMPOTENCY_DESCRIPTION,
        ),
    ] = None,
) -> AsyncIterator[str]:
    """The request's Idempotency-Key; 400 problem when it is missing, blank or too long.

    A key is the caller's (an applicant's organisation, else the account): used again for another request
    (another route or body) it is a 409 problem, as it is not the same request; the same request again is
    answered as the first was. A key is remembered only once its request succeeded, so a refused request
    can be corrected and sent with the same key."""
    key = _checked_key(key)
    pool = read_model_pool(request)
    if pool is None:  # no read model (some tests): the workflows' own deduplication still holds
        yield key
        return
    scope = principal.organisation_id or principal.account_id
    use = KeyUse(_fingerprint(request.method, request.url.path, await request.body()),
                 f"{request.method} {request.url.path}")
    first = await idempotency.first_use(pool, scope, key)
    if first is not None and first.fingerprint != use.fingerprint:
        where = "another body" if first.route == use.route else f"another request ({first.route})"
        raise ApiProblem(409, "Idempotency-Key already used for another request",
                         f"This Idempotency-Key was used for {where}; send a new key for a new request.",
                         kind="idempotency-key-reused")
    yield key
    if first is None:
        await idempotency.remember(pool, scope, key, use)


def _fingerprint(method: str, path: str, body: bytes) -> str:
    """The request's identity: its route and its body (JSON compared by content, not by spacing or key order)."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(f"{method} {path}\n".encode() + canonical).hexdigest()


def _checked_key(key: str | None) -> str:
    key = (key or "").strip()
    if not key:
        raise ApiProblem(
            400,
            "Idempotency-Key header missing",
            "Send a unique Idempotency-Key header (e.g. a UUID) with each new request; "
            "a retry with the same key returns the first answer and acts only once.",
            kind="idempotency-key-missing",
        )
    if len(key) > MAX_KEY_LENGTH:
        raise ApiProblem(400, "Idempotency-Key too long", f"Use at most {MAX_KEY_LENGTH} characters.",
                         kind="idempotency-key-invalid")
    return key


IdempotencyKey = Annotated[str, Depends(idempotency_key)]


# ---- audit --------------------------------------------------------------------------------


def read_model_pool(request: Request) -> asyncpg.Pool | None:
    state = request.app.state
    return getattr(getattr(state, "jfc", None), "pool", None) or getattr(state, "read_model", None)


async def record(
    request: Request,
    ctx: ApiContext,
    *,
    actor: str,
    action: str,
    application_id: str | None,
    detail: dict[str, Any],
    source_key: str,
) -> None:
    """Append the action to the audit log (once per `source_key`); no personal data goes into `detail`.

    Runs after the action succeeded. When the log cannot be written the caller gets a 503 and retries with the
    same key: the workflow answers the same result again (update id, decision id) and the row is written then.
    """
    pool = read_model_pool(request)
    if pool is None:
        log.warning("audit skipped: no read model", action=action)
        return
    try:
        async with pool.acquire() as conn:
            await audit.append(conn, at=ctx.now(), actor=actor, action=action, application_id=application_id,
                               detail=detail, source_key=source_key)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
        log.error("audit append failed", action=action, source_key=source_key, error=str(err))
        raise ApiProblem(
            503, "audit log unavailable",
            "The action was taken but could not be written to the audit log; send the same request again "
            "with the same key (it will not act twice).",
            kind="audit-unavailable", headers={"Retry-After": "5"},
        ) from None
