"""Problems with input, each with the field path it concerns (`locations[1].days[0].date`)."""

from __future__ import annotations

from pydantic import BaseModel


class Problem(BaseModel):
    path: str
    message: str


class ProblemDocument(BaseModel):
    """JSON error body of the API (RFC 9457 shape, with every problem listed)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""
    problems: list[Problem] = []
    earliest_feasible_start: str | None = None
