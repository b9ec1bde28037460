"""Shared HTTP pieces of the simulator: problem documents and route dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse

from schemas.problems import Problem, ProblemDocument
from simulator.engine import Simulator
from simulator.store import StoredRequest

MAX_KEY_LENGTH = 300


class ProblemError(Exception):
    """Ends a request with a JSON problem document."""

    def __init__(self, status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.headers = status, title, detail, headers


def problem_response(
    status: int, title: str, detail: str, problems: list[Problem] | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    doc = ProblemDocument(title=title, status=status, detail=detail, problems=problems or [])
    return JSONResponse(
        doc.model_dump(exclude_none=True), status_code=status, headers=headers, media_type="application/problem+json"
    )


def field_path(loc: tuple | list) -> str:
    """`("body", "locations", 1, "days")` → `locations[1].days`."""
    path = ""
    for part in loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


async def simulator(request: Request) -> Simulator:
    return request.app.state.sim


async def party(code: str, request: Request) -> str:
    """The path's code (a catalog agency, `audit` or `treasury`: anything with admin controls), or 404 naming it."""
    known = request.app.state.sim.codes
    if code not in known:
        raise ProblemError(404, "Unknown agency", f"No agency {code!r} here; known codes: {', '.join(known)}")
    return code


async def agency(code: str, request: Request) -> str:
    """The path's code if it is a catalog agency (one that takes clearance requests), or 404 naming it."""
    sim = request.app.state.sim
    if code in sim.codes and code not in sim.agencies:
        detail = f"{code!r} is not an agency of the catalog and takes no clearance requests; agencies: "
        raise ProblemError(404, "Unknown agency", detail + ", ".join(sim.agencies))
    if code not in sim.agencies:
        raise ProblemError(404, "Unknown agency", f"No agency {code!r} here; known codes: {', '.join(sim.codes)}")
    return code


async def idempotency_key(key: Annotated[str | None, Header(alias="Idempotency-Key")] = None) -> str:
    if key is None or not key.strip():
        raise ProblemError(400, "Missing Idempotency-Key", "Send an Idempotency-Key header (the request_key)")
    if len(key) > MAX_KEY_LENGTH:
        detail = f"Idempotency-Key is limited to {MAX_KEY_LENGTH} characters"
        raise ProblemError(400, "Idempotency-Key too long", detail)
    return key


async def known_request(
    reference: str, code: str = Depends(agency), sim: Simulator = Depends(simulator)
) -> StoredRequest:
    """The request `reference` of this agency, or 404."""
    stored = await sim.store.get(code, reference)
    if stored is None:
        raise ProblemError(404, "Unknown reference", f"Agency {code!r} holds no request {reference!r}")
    return stored


Code = Annotated[str, Depends(party)]
Agency = Annotated[str, Depends(agency)]
Key = Annotated[str, Depends(idempotency_key)]
Sim = Annotated[Simulator, Depends(simulator)]
Known = Annotated[StoredRequest, Depends(known_request)]
