"""The agency simulator's HTTP app: the agency API of every catalog agency, with injectable faults.

The audit firm's and the treasury's APIs live in `simulator.parties`; admin routes (behaviour,
outages, manual decisions, payments) in `simulator.admin`. Faults play alike for all of them.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import structlog
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from schemas.agency_api import AgencyReceipt, AgencyRequestState, AgencyRequestStatus, ClearanceRequest
from schemas.agency_api import InformationReply
from schemas.problems import Problem
from simulator.admin import admin
from simulator.deps import Agency, Key, Known, ProblemError, Sim, field_path, problem_response
from simulator.delivery import Deliverer
from simulator.engine import PARTIES, Simulator
from simulator.parties import audit_api, party_admin, treasury_api
from simulator.store import Store

log = structlog.get_logger(__name__)

AGENCY_CALL = re.compile(r"^/agencies/([^/]+)/v1/")
api = APIRouter(prefix="/agencies/{code}/v1/clearance-requests", tags=["agency API"])


@api.post("", response_model=AgencyReceipt, status_code=201)
async def submit(code: Agency, key: Key, body: ClearanceRequest, sim: Sim, response: Response) -> AgencyReceipt:
    """Receive a clearance request; the same Idempotency-Key returns the same reference (200)."""
    if body.agency != code:
        raise ProblemError(422, "Wrong agency", f"The request is for agency {body.agency!r} but was sent to {code!r}")
    if not body.callback_url.startswith(("http://", "https://")):
        detail = f"callback_url must be an http(s) URL, got {body.callback_url!r}"
        raise ProblemError(422, "Invalid callback_url", detail)
    stored, created = await sim.receive(code, key, body)
    if not created:
        response.status_code = 200
    return AgencyReceipt(reference=stored.reference, status=stored.status)


@api.get("/{reference}", response_model=AgencyRequestStatus)
async def status(request: Known) -> AgencyRequestStatus:
    return request.view()


@api.delete("/{reference}", response_model=AgencyRequestStatus)
async def withdraw(code: Agency, request: Known, sim: Sim) -> AgencyRequestStatus:
    """Withdraw the request (idempotent); a pending decision is cancelled."""
    stored = await sim.withdraw(code, request.reference)
    return (stored or request).view()


@api.post("/{reference}/answers", response_model=AgencyRequestStatus)
async def answer(code: Agency, key: Key, request: Known, body: InformationReply, sim: Sim) -> AgencyRequestStatus:
    """Answer the agency's question; the request is then decided again."""
    if request.status == AgencyRequestState.withdrawn:
        detail = f"Request {request.reference!r} was withdrawn; it takes no answers"
        raise ProblemError(409, "Request withdrawn", detail)
    stored = await sim.answer(code, request.reference, key, body)
    return (stored or request).view()


async def faults(request: Request, call_next: Callable) -> Response:
    """Play the network for agency API calls (the audit firm's and the treasury's too): outages, latency,
    errors, lost responses; log every call."""
    match = AGENCY_CALL.match(request.url.path)
    sim: Simulator = request.app.state.sim
    if not match or match.group(1) not in sim.modes:
        return await call_next(request)
    code, fault = match.group(1), None
    behaviour = await sim.behaviour(code)
    until = await sim.store.outage_until(code)
    if until is not None:
        fault = "outage"
        retry_after = max(1, math.ceil(until - time.time()))
        detail = f"Agency {code!r} is down for {retry_after} s more"
        response: Response = problem_response(
            503, "Agency unavailable", detail, headers={"Retry-After": str(retry_after)}
        )
    else:
        if behaviour.latency_ms:
            await asyncio.sleep(behaviour.latency_ms / 1000)
        if sim.rng.random() < behaviour.error_rate:
            fault = "error"
            response = problem_response(503, "Agency error", f"Agency {code!r} failed before processing the call")
        else:
            response = await call_next(request)
            mutation = request.method != "GET"
            if response.status_code < 300 and mutation and sim.rng.random() < behaviour.lost_response_rate:
                async for _ in response.body_iterator:  # the call was processed; only its answer is lost
                    pass
                fault = "lost_response"
                response = problem_response(503, "Agency error", f"Agency {code!r} processed the call, then failed")
    key = request.headers.get("Idempotency-Key")
    await sim.store.log_call(code, request.method, request.url.path, key, response.status_code, fault)
    if fault:
        log.info("agency.fault", agency=code, method=request.method, path=request.url.path, fault=fault)
    return response


def create_app(
    state_dir: Path,
    agency_codes: list[str],
    secrets: Callable[[str], bytes],
    api_url: str,
    modes: dict[str, str] | None = None,
) -> FastAPI:
    """The simulator app for `agency_codes`, keeping its state in `state_dir/simulator.db`.

    The audit firm (`audit`) and the treasury (`treasury`) are always served beside them.
    `secrets(ref)` gives webhook secrets (ref = agency code, "audit", or "payments"); `api_url` is our
    API's base URL (payment webhooks); `modes` maps codes to "webhook" or "poll" (default webhook).
    """
    reserved = sorted(set(agency_codes) & set(PARTIES))
    if reserved:
        raise ValueError(f"agency codes {reserved} are the audit firm's and the treasury's; rename them in the catalog")
    all_modes = {code: (modes or {}).get(code, "webhook") for code in [*agency_codes, *PARTIES]}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store.open(state_dir)
        async with httpx.AsyncClient(timeout=httpx.Timeout(10.0)) as client:
            sim = Simulator(store, Deliverer(store, secrets, client), all_modes, api_url)
            app.state.sim = sim
            await sim.resume()
            log.info("simulator.started", agencies=len(sim.agencies), parties=list(PARTIES), state=str(state_dir))
            try:
                yield
            finally:
                await sim.close()
                store.close()
                log.info("simulator.stopped")

    app = FastAPI(title="JFC agency simulator", version="1", lifespan=lifespan)
    app.middleware("http")(faults)
    app.include_router(api)
    app.include_router(audit_api)
    app.include_router(treasury_api)
    app.include_router(party_admin)  # before `admin`: its /admin/agencies/{audit|treasury}/requests... win
    app.include_router(admin)

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc.status, exc.title, exc.detail, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [Problem(path=field_path(e["loc"]), message=e["msg"]) for e in exc.errors()]
        detail = "; ".join(f"{p.path or 'body'}: {p.message}" for p in problems)
        return problem_response(422, "Invalid request", detail, problems)

    @app.get("/healthz", tags=["health"])
    async def healthz(sim: Sim) -> dict:
        return {"status": "ok", "agencies": sim.agencies, "parties": list(PARTIES)}

    return app
