"""The pages' routes: sign-in, the applicant portal, the officer dashboard and the agency clerk view.

Every page reads through the JSON API's services (api.access.visible_status and shown_to, api.listing,
store.queue) and acts through its shared functions, so the same account sees and may do the same things.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import httpx

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError

from api import listing, permits
from api.access import read_model_pool, shown_to, visible_status
from api.actions import CancelBody, InformationBody, amend_application, answer_request, cancel_application
from api.officer import DecisionBody, decide_application
from api.problems import ApiProblem, invalid_body
from api.context import ApiContext
from schemas.status import ClearanceStatus, PermitStatusView
from store import queue, reports
from store.accounts import Principal, Role
from web import forms
from web.i18n import language
from web.pages import PREFIX, STATIC_DIR, PageRoute, home_of, render, safe_next, see_other, signed_in
from web.session import LANG_COOKIE, check_csrf, cookie_options, principal_for, sign_in, sign_out
from web.timebar import time_bar

# What an officer may override (workflows.permit.decisions.OVERRIDABLE: the workflow refuses any other).
OVERRIDABLE = {s.value for s in (ClearanceStatus.approved, ClearanceStatus.approved_with_conditions,
                                 ClearanceStatus.rejected, ClearanceStatus.deemed_approved)}
router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)
POLL_SECONDS = 3


def install(app) -> None:  # noqa: ANN001 - the FastAPI app
    """Mount the pages and their static files on the API's app."""
    from web import incentive_pages, officer_pages  # they use this module's helpers

    app.include_router(router)
    app.include_router(officer_pages.router)
    app.include_router(incentive_pages.router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC_DIR), name="web-static")


def _ctx(request: Request) -> ApiContext:
    return request.app.state.jfc


def _pool(request: Request):
    pool = read_model_pool(request)
    if pool is None:
        raise ApiProblem(503, "read model unavailable", "The pages need the database; try again later.",
                         kind="read-model-unavailable")
    return pool


def _key(form: dict[str, str]) -> str:
    """The form's idempotency key (rendered with the form, so sending it twice acts once)."""
    return form.get("form_key", "").strip()[:100] or str(uuid.uuid4())


async def _form(request: Request) -> dict[str, str]:
    form = forms.parse_form(await request.body())
    check_csrf(request, form)
    return form


# ---- sign-in, sign-out, language ----------------------------------------------------------


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    return see_other(home_of(await signed_in(request)))


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_page(request: Request, next: Annotated[str | None, Query(max_length=500)] = None) -> Response:
    return render(request, "sign_in.html", next=safe_next(next) or "")


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in_post(request: Request) -> Response:
    form = await _form(request)
    token = form.get("token", "").strip()
    principal = await principal_for(request, token) if token else None
    if principal is None:
        return render(request, "sign_in.html", 401, next=safe_next(form.get("next")) or "", error=True)
    response = see_other(safe_next(form.get("next")) or home_of(principal))
    sign_in(request, response, token)
    return response


@router.post("/sign-out", response_class=HTMLResponse)
async def sign_out_post(request: Request) -> Response:
    await _form(request)
    response = see_other(f"{PREFIX}/sign-in")
    sign_out(request, response)
    return response


@router.get("/lang/{code}", response_class=HTMLResponse)
async def switch_language(request: Request, code: str,
                          next: Annotated[str | None, Query(max_length=500)] = None) -> Response:
    response = see_other(safe_next(next) or f"{PREFIX}/")
    response.set_cookie(LANG_COOKIE, language(code), **cookie_options(request, max_age=365 * 86400))
    return response


# ---- applications (every role, scoped like GET /v1/permits) ----------------------------------


@router.get("/applications", response_class=HTMLResponse)
async def applications(request: Request) -> Response:
    principal = await signed_in(request)
    page = await listing.list_permits(principal=principal, pool=_pool(request), status=None, agency=None, q=None,
                                      cursor=None, limit=100)
    return render(request, "applications.html", principal=principal, items=page.items)


@router.get("/applications/new", response_class=HTMLResponse)
async def new_application(request: Request) -> Response:
    principal = await signed_in(request, Role.applicant)
    return render(request, "new_application.html", principal=principal,
                  v=forms.blank_application(_ctx(request).today()), errors={}, form_key=str(uuid.uuid4()))


@router.post("/applications", response_class=HTMLResponse)
async def submit_application(request: Request) -> Response:
    principal = await signed_in(request, Role.applicant)
    form = await _form(request)
    values = forms.application_values(form)
    key = _key(form)
    try:
        application = forms.application_from(values)
        accepted = await permits.submit(request, _ctx(request), principal, application, key)
    except ApiProblem as problem:
        if problem.document.status not in (409, 422):
            raise
        return render(request, "new_application.html", problem.document.status, principal=principal, v=values,
                      errors=forms.problem_fields(problem), problem=problem.document, form_key=key)
    return see_other(f"{PREFIX}/applications/{accepted.id}")


async def _view(request: Request, principal: Principal, application_id: str) -> PermitStatusView:
    return shown_to(principal, await visible_status(_ctx(request), principal, application_id))


def _page_values(request: Request, principal: Principal, view: PermitStatusView) -> dict:
    now = _ctx(request).now()
    return {
        "view": view,
        "bars": {c.agency: time_bar(c, now) for c in view.clearances},
        "poll_seconds": POLL_SECONDS,
        "open_statuses": {s.value for s in ClearanceStatus if not s.is_final},
        "overridable_statuses": OVERRIDABLE,
        "form_key": str(uuid.uuid4()),
        "simulator": simulator_payments(request) is not None,
        "may_act": principal.is_officer or (principal.is_applicant and view.organisation_id == principal.organisation_id),
    }


@router.get("/applications/{application_id}", response_class=HTMLResponse)
async def application_page(request: Request, application_id: str) -> Response:
    principal = await signed_in(request)
    view = await _view(request, principal, application_id)
    return render(request, "application.html", principal=principal, **_page_values(request, principal, view))


@router.get("/applications/{application_id}/status", response_class=HTMLResponse)
async def application_status(request: Request, application_id: str) -> Response:
    """The part of the application page that changes, for the page's periodic refresh."""
    principal = await signed_in(request)
    view = await _view(request, principal, application_id)
    return render(request, "_status.html", principal=principal, **_page_values(request, principal, view))


@router.get("/applications/{application_id}/document")
async def application_document(request: Request, application_id: str) -> Response:
    principal = await signed_in(request)
    return await permits.get_document(application_id, _ctx(request), principal)


async def _act(request: Request, principal: Principal, application_id: str, action) -> Response:  # noqa: ANN001
    """Run `action()`; a refused one renders the page with the problem, a done one redirects back to it."""
    try:
        await action()
    except ApiProblem as problem:
        if problem.document.status not in (409, 422):
            raise
        view = await _view(request, principal, application_id)
        return render(request, "application.html", problem.document.status, principal=principal,
                      problem=problem.document, **_page_values(request, principal, view))
    return see_other(f"{PREFIX}/applications/{application_id}")


def _body(model, data: dict, what: str):  # noqa: ANN001
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_body(exc, what) from None


@router.post("/applications/{application_id}/cancel", response_class=HTMLResponse)
async def cancel(request: Request, application_id: str) -> Response:
    principal = await signed_in(request, Role.applicant, Role.officer)
    form = await _form(request)

    async def action() -> None:
        body = _body(CancelBody, {"reason": form.get("reason", "")}, "cancellation")
        await cancel_application(request, _ctx(request), principal, application_id, body, _key(form))

    return await _act(request, principal, application_id, action)


@router.post("/applications/{application_id}/answer", response_class=HTMLResponse)
async def answer(request: Request, application_id: str) -> Response:
    principal = await signed_in(request, Role.applicant, Role.officer)
    form = await _form(request)

    async def action() -> None:
        body = _body(InformationBody, {"request_id": form.get("request_id", ""), "answer": form.get("answer", "")},
                     "answer")
        await answer_request(request, _ctx(request), principal, application_id, body, _key(form))

    return await _act(request, principal, application_id, action)


@router.post("/applications/{application_id}/decide", response_class=HTMLResponse)
async def decide(request: Request, application_id: str) -> Response:
    principal = await signed_in(request, Role.officer)
    form = await _form(request)

    async def action() -> None:
        data = {"kind": form.get("kind", ""), "outcome": form.get("outcome", ""), "reason": form.get("reason", ""),
                "conditions": [line.strip() for line in form.get("conditions", "").splitlines() if line.strip()]}
        if form.get("agency"):
            data["agency"] = form["agency"]
        body = _body(DecisionBody, data, "decision")
        await decide_application(request, _ctx(request), principal, application_id, body, _key(form))

    return await _act(request, principal, application_id, action)


# ---- officer dashboard, agency clerk view --------------------------------------------------


@router.get("/officer", response_class=HTMLResponse)
async def officer_dashboard(request: Request) -> Response:
    principal = await signed_in(request, Role.officer, Role.auditor)
    pool, now = _pool(request), _ctx(request).now()
    items = await queue.officer_queue(pool, now, limit=200)
    today = _ctx(request).today()
    sla = await reports.agency_sla(pool, today - dt.timedelta(days=30), today, now)
    return render(request, "officer.html", principal=principal, items=items, sla=sla,
                  sla_max=max([row.requests for row in sla] + [1]))


@router.get("/agency", response_class=HTMLResponse)
async def agency_view(request: Request) -> Response:
    principal = await signed_in(request, Role.agency)
    page = await listing.list_permits(principal=principal, pool=_pool(request), status=None, agency=None, q=None,
                                      cursor=None, limit=100)
    return render(request, "agency.html", principal=principal, items=page.items)


# ---- amend and pay (the applicant, or an officer on its behalf) ----------------------------------


def amendment_values(view: PermitStatusView) -> dict:
    """The amendment form's start: what the status view holds of the current application (its company, title,
    locations and days); the rest (contact, coordinates, crew, insurance) the applicant gives again."""
    return {
        "applicant": {"company": view.applicant_company, "country": "ID"},
        "production": {"title": view.production_title, "kind": "feature_film"},
        "locations": [{"name": loc.name, "kind": loc.kind, "address": loc.address, "city": loc.city, "road_use": "none",
                       "days": [{"date": d.date.isoformat(), "start": d.start.strftime("%H:%M"),
                                 "end": d.end.strftime("%H:%M")} for d in loc.days]} for loc in view.locations],
        "insurance": {},
        "expedite": {"requested": False},
    }


@router.get("/applications/{application_id}/amend", response_class=HTMLResponse)
async def amend_page(request: Request, application_id: str) -> Response:
    principal = await signed_in(request, Role.applicant, Role.officer)
    view = await _view(request, principal, application_id)
    return render(request, "new_application.html", principal=principal, v=amendment_values(view), errors={},
                  form_key=str(uuid.uuid4()), amending=view.id)


@router.post("/applications/{application_id}/amend", response_class=HTMLResponse)
async def amend(request: Request, application_id: str) -> Response:
    principal = await signed_in(request, Role.applicant, Role.officer)
    form = await _form(request)
    values = forms.application_values(form)
    key = _key(form)
    try:
        await _view(request, principal, application_id)  # 404 before any field problem
        application = forms.application_from(values)
        await amend_application(request, _ctx(request), principal, application_id, application, key)
    except ApiProblem as problem:
        if problem.document.status not in (409, 422):
            raise
        return render(request, "new_application.html", problem.document.status, principal=principal, v=values,
                      errors=forms.problem_fields(problem), problem=problem.document, form_key=key,
                      amending=application_id)
    return see_other(f"{PREFIX}/applications/{application_id}")


def simulator_payments(request: Request) -> str | None:
    """The local payment simulator's `POST /admin/payments`, when the settings say this is the local stack."""
    settings = _ctx(request).settings
    return f"{settings.simulator_url}/admin/payments" if settings.env == "local" else None


async def pay_at_simulator(url: str, permit_id: str, amount_idr: int) -> None:
    """Tell the simulator's bank the applicant paid (it then calls our payment webhook, as a bank would)."""
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(url, json={"permit_id": permit_id, "amount_idr": amount_idr})
    if response.status_code >= 300:
        raise ApiProblem(503, "payment simulator refused", f"The simulator answered {response.status_code}: "
                         f"{response.text[:200]}", kind="simulator-unavailable")


@router.post("/applications/{application_id}/pay", response_class=HTMLResponse)
async def pay(request: Request, application_id: str) -> Response:
    principal = await signed_in(request, Role.applicant)
    await _form(request)
    view = await _view(request, principal, application_id)
    url = simulator_payments(request)
    if url is None:
        raise ApiProblem(404, "no payment simulator", "Payments are made by bank transfer with the reference shown on "
                         "the application's page.", kind="not-found")
    if view.fees is None or view.fees.paid_at is not None or view.status.value != "awaiting_payment":
        raise ApiProblem(409, "nothing to pay", f"Application {application_id} ({view.status.value}) has no fee due.",
                         kind="nothing-due")
    try:
        await pay_at_simulator(url, view.id, view.fees.total_idr)
    except httpx.HTTPError as err:
        raise ApiProblem(503, "payment simulator unavailable", f"{err}", kind="simulator-unavailable") from None
    return see_other(f"{PREFIX}/applications/{application_id}")
