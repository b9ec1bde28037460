"""The applicant's incentives: apply on one of its permits (the JSON route's logic, api.incentives.apply_for_incentive)
and follow one (status, money, eligibility rules passed or failed, tranches, timeline, certificates). Officers and
auditors read them too; agency clerks none (403), like the JSON API."""

from __future__ import annotations

import json
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api import incentives as incentives_api
from api import listing
from api.problems import ApiProblem, invalid_body
from schemas.incentives import CertificateKind, IncentiveApplication, Programme
from store import incentive_reports
from store.accounts import Principal, Role
from web import forms
from web.pages import PREFIX, PageRoute, render, see_other, signed_in
from web.routes import _ctx, _form, _key, _pool

router = APIRouter(prefix=f"{PREFIX}/incentives", route_class=PageRoute, include_in_schema=False)
READERS = (Role.applicant, Role.officer, Role.auditor)
NUMBERS = ("fiscal_year", "planned_jakarta_spend_idr", "planned_post_production_idr", "crew_total", "crew_indonesian")


async def _permits(request: Request, principal: Principal) -> list:
    page = await listing.list_permits(principal=principal, pool=_pool(request), status=None, agency=None, q=None,
                                      cursor=None, limit=100)
    return page.items


def _form_page(request: Request, principal: Principal, permits: list, values: dict, errors: dict, key: str,
               status_code: int = 200, problem=None) -> Response:  # noqa: ANN001
    return render(request, "new_incentive.html", status_code, principal=principal, permits=permits, v=values,
                  errors=errors, form_key=key, programmes=[p.value for p in Programme], problem=problem)


@router.get("", response_class=HTMLResponse)
async def incentives(request: Request) -> Response:
    principal = await signed_in(request, *READERS)
    page = await incentive_reports.list_incentives(
        _pool(request), organisation_id=(principal.organisation_id or "") if principal.is_applicant else None, limit=100)
    return render(request, "incentives.html", principal=principal, items=page.items)


@router.get("/new", response_class=HTMLResponse)
async def new_incentive(request: Request, permit: str | None = None) -> Response:
    principal = await signed_in(request, Role.applicant)
    values = {"programme": "location_rebate", "permit_id": permit or "", "fiscal_year": str(_ctx(request).today().year),
              "planned_post_production_idr": "0"}
    return _form_page(request, principal, await _permits(request, principal), values, {}, str(uuid.uuid4()))


@router.post("", response_class=HTMLResponse)
async def apply(request: Request) -> Response:
    principal = await signed_in(request, Role.applicant)
    form = await _form(request)
    key = _key(form)
    values = {name: form.get(name, "").strip() for name in ("programme", "permit_id", *NUMBERS)}
    values["director_first_feature"] = form.get("director_first_feature", "")
    data: dict = {k: v for k, v in values.items() if v and k != "director_first_feature"}
    if values["director_first_feature"] == "true":
        data["director_first_feature"] = True
    try:
        try:
            application = IncentiveApplication.model_validate_json(json.dumps(data))
        except ValidationError as exc:
            raise invalid_body(exc, "incentive application") from None
        accepted = await incentives_api.apply_for_incentive(request, _ctx(request), principal, application, key)
    except ApiProblem as problem:
        if problem.document.status not in (409, 422):
            raise
        return _form_page(request, principal, await _permits(request, principal), values,
                          forms.problem_fields(problem), key, problem.document.status, problem.document)
    return see_other(f"{PREFIX}/incentives/{accepted.id}")


@router.get("/{incentive_id}", response_class=HTMLResponse)
async def incentive_page(request: Request, incentive_id: str) -> Response:
    principal = await signed_in(request, *READERS)
    view = await incentives_api.visible_incentive(_ctx(request), principal, incentive_id)
    return render(request, "incentive.html", principal=principal, view=view)


@router.get("/{incentive_id}/certificates/{kind}")
async def certificate(request: Request, incentive_id: str, kind: CertificateKind) -> Response:
    principal = await signed_in(request, *READERS)
    return await incentives_api.certificate(incentive_id, kind, _ctx(request), principal)
