"""The permit list: filter by status and agency, search, and page with an opaque cursor (`GET /v1/permits`).

Lists only what the caller may see: an applicant its organisation's applications, an agency clerk those
routed to its agency (naming no other agency, and refused a filter on another: 403), officers and auditors
everything.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import CurrentPrincipal, auth_responses
from api.problems import ApiProblem, responses
from api.reports import ReadModel
from schemas.catalog import AgencyCode
from schemas.problems import Problem
from schemas.reports import PermitPage
from schemas.status import ApplicationStatus
from store import reports

router = APIRouter(prefix="/v1/permits", tags=["permits"])

MAX_QUERY_LENGTH = 200


@router.get(
    "",
    response_model=PermitPage,
    summary="List and search applications, newest first",
    description="Only what the caller may see. Filters combine. `q` is a case-insensitive substring of the "
    "applicant company, production title, location names or permit number. Pass a page's `next_cursor` as "
    "`cursor` for the next page. An agency clerk may filter only on its own agency (another one: 403); its "
    "`next_deadline` is its own clearance's.",
    responses={**responses(422, 503), **auth_responses()},
)
async def list_permits(
    principal: CurrentPrincipal,
    pool: ReadModel,
    status: Annotated[ApplicationStatus | None, Query(description="Only applications in this status")] = None,
    agency: Annotated[AgencyCode | None, Query(description="Only applications routed to this agency")] = None,
    q: Annotated[str | None, Query(max_length=MAX_QUERY_LENGTH, description="Search text")] = None,
    cursor: Annotated[str | None, Query(max_length=1000, description="`next_cursor` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=reports.MAX_PAGE, description="Items per page")] = 50,
) -> PermitPage:
    if cursor:
        try:
            reports.decode_cursor(cursor)
        except ValueError as err:
            raise ApiProblem(
                422, "invalid cursor", f"{err}.", kind="invalid-request", problems=[Problem(path="cursor", message=str(err))]
            ) from None
    if principal.is_agency and agency is not None and agency.value != principal.agency:
        raise ApiProblem(
            403, "another agency's applications",
            f"An agency clerk lists only the applications routed to its own agency ({principal.agency}); leave out "
            f"`agency`, or pass agency={principal.agency}.",
            kind="forbidden", problems=[Problem(path="agency", message=f"{agency.value} is not your agency")],
        )
    scope: dict[str, str | None] = {}
    if principal.is_applicant:
        scope["organisation_id"] = principal.organisation_id or ""  # "" matches nothing: never "no scope"
    elif principal.is_agency:
        scope["agency_scope"] = principal.agency or ""
    page = await reports.list_permits(
        pool,
        status=status.value if status else None,
        agency=agency.value if agency else None,
        q=q,
        cursor=cursor,
        limit=limit,
        **scope,
    )
    if principal.is_agency:  # a clerk learns nothing of the other agencies an application went to
        page = page.model_copy(update={
            "items": [item.model_copy(update={"agencies": [a for a in item.agencies if a == principal.agency]})
                      for item in page.items]
        })
    return page
