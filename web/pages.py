"""Rendering: the Jinja2 environment, the page route that turns problems into pages, and role checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import quote

import structlog
from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.problems import ApiProblem
from domain.jakarta import JAKARTA
from schemas.application import LocationKind, ProductionKind, RoadUse
from store.accounts import Principal, Role
from web.i18n import LANGUAGES, translator
from web.session import (
    CSRF_FIELD,
    CsrfRefused,
    SignInRequired,
    csrf_secret,
    csrf_token,
    ensure_csrf_secret,
    page_language,
    session_principal,
    session_token,
)

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
PREFIX = "/web"

log = structlog.get_logger("jfc.web")


def _jakarta_time(moment: dt.datetime | None) -> str:
    return moment.astimezone(JAKARTA).strftime("%Y-%m-%d %H:%M") if moment else "—"


def _idr(amount: int | None) -> str:
    return "—" if amount is None else f"Rp {amount:,}".replace(",", ".")


templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                        trim_blocks=True, lstrip_blocks=True)
templates.filters["jakarta"] = _jakarta_time
templates.filters["idr"] = _idr
templates.globals.update(location_kinds=[k.value for k in LocationKind], road_uses=[r.value for r in RoadUse],
                         production_kinds=[k.value for k in ProductionKind])


def render(request: Request, name: str, status_code: int = 200, principal: Principal | None = None,
           **values: Any) -> HTMLResponse:
    """The template `name` with the page's language, the signed-in account and the form token."""
    lang = page_language(request)
    response = HTMLResponse(status_code=status_code)
    secret = csrf_secret(request) or ensure_csrf_secret(request, response)
    html = templates.get_template(name).render(
        t=translator(lang), lang=lang, languages=LANGUAGES, principal=principal, prefix=PREFIX,
        csrf_field=CSRF_FIELD, csrf=csrf_token(secret, session_token(request)), path=request.url.path,
        **values,
    )
    response.body = response.render(html)
    response.headers["content-length"] = str(len(response.body))
    response.headers["Cache-Control"] = "no-store"
    return response


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


class PageRoute(APIRoute):
    """A page: problems render as pages (404, 403, 409, 503), not as JSON; no session goes to sign-in."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                if request.headers.get("HX-Request"):
                    return Response(status_code=401, headers={"HX-Redirect": f"{PREFIX}/sign-in"})
                return see_other(f"{PREFIX}/sign-in?next={quote(request.url.path)}")
            except CsrfRefused:
                log.warning("form refused: CSRF token missing or wrong", path=request.url.path)
                t = translator(page_language(request))
                return render(request, "error.html", 403, principal=await session_principal(request),
                              title=t("csrf_title"), detail=t("csrf_detail"))
            except ApiProblem as problem:
                return problem_page(request, problem, await session_principal(request))

        return page


def problem_page(request: Request, problem: ApiProblem, principal: Principal | None) -> HTMLResponse:
    document = problem.document
    t = translator(page_language(request))
    title = {404: t("not_found_title"), 403: t("forbidden_title")}.get(document.status, document.title)
    response = render(request, "error.html", document.status, principal=principal, title=title,
                      detail=document.detail, problems=document.problems)
    for name, value in (problem.headers or {}).items():
        response.headers[name] = value
    return response


async def signed_in(request: Request, *roles: Role) -> Principal:
    """The signed-in account; SignInRequired without one, a 403 page when its role is not one of `roles`."""
    principal = await session_principal(request)
    if principal is None:
        raise SignInRequired
    if roles and principal.role not in roles:
        names = " / ".join(str(role) for role in roles)
        raise ApiProblem(403, "forbidden", f"This page is for {names} accounts; yours is {principal.role}.",
                         kind="forbidden")
    return principal


def home_of(principal: Principal) -> str:
    """Where each role starts: applicants their applications, officers and auditors the queue, clerks theirs."""
    if principal.is_applicant:
        return f"{PREFIX}/applications"
    if principal.is_agency:
        return f"{PREFIX}/agency"
    return f"{PREFIX}/officer"


def safe_next(url: str | None) -> str | None:
    """`url` when it is one of our pages (never another site), else None."""
    if url and url.startswith(f"{PREFIX}") and not url.startswith("//") and "\\" not in url:
        return url
    return None
