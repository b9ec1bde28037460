"""The permit list: filter by status and agency, search, and page with an opaque cursor (`GET /v1/permits`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

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
    description="Filters combine. `q` is a case-insensitive substring of the applicant company, production "
    "title, location names or permit number. Pass a page's `next_cursor` as `cursor` for the next page.",
    responses=responses(422, 503),
)
async def list_permits(
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
    return await reports.list_permits(
        pool,
        status=status.value if status else None,
        agency=agency.value if agency else None,
        q=q,
        cursor=cursor,
        limit=limit,
    )
