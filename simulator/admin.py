"""Admin routes (dev and tests only): behaviour, outages, requests held, manual decisions, payments, reset.

`{code}` is a catalog agency, `audit` or `treasury`; the requests lists of the last two and the
manual audit are in `simulator.parties` (served first, so they take those paths).
"""

from __future__ import annotations

import datetime as dt
import time

from fastapi import APIRouter, Query

from schemas.agency_api import AgencyRequestStatus
from simulator.behaviour import Behaviour, BehaviourUpdate, ManualDecision, OutageOrder, PaymentOrder, PaymentResult
from simulator.behaviour import RequestSummary
from simulator.deps import Code, Known, ProblemError, Sim

admin = APIRouter(prefix="/admin", tags=["admin"])


@admin.get("/agencies", response_model=dict[str, Behaviour])
async def behaviours(sim: Sim) -> dict[str, Behaviour]:
    return {code: await sim.behaviour(code) for code in sim.codes}


@admin.get("/agencies/{code}", response_model=Behaviour)
async def get_behaviour(code: Code, sim: Sim) -> Behaviour:
    return await sim.behaviour(code)


@admin.put("/agencies/{code}", response_model=Behaviour)
async def put_behaviour(code: Code, update: BehaviourUpdate, sim: Sim) -> Behaviour:
    """Change the fields given; the others keep their values."""
    return await sim.update_behaviour(code, update)


@admin.post("/agencies/{code}/outage")
async def start_outage(code: Code, order: OutageOrder, sim: Sim) -> dict:
    """Answer 503 with Retry-After to every agency API call of this agency for `seconds`."""
    until = time.time() + order.seconds
    await sim.store.set_outage(code, until)
    return {"agency": code, "until": dt.datetime.fromtimestamp(until, dt.UTC).isoformat()}


@admin.delete("/agencies/{code}/outage")
async def end_outage(code: Code, sim: Sim) -> dict:
    await sim.store.set_outage(code, None)
    return {"agency": code, "until": None}


@admin.get("/agencies/{code}/requests", response_model=list[RequestSummary])
async def held_requests(code: Code, sim: Sim) -> list[RequestSummary]:
    """Every request the agency holds, one entry per Idempotency-Key."""
    return [
        RequestSummary(
            idempotency_key=r.idempotency_key,
            reference=r.reference,
            received_at=r.received_at,
            times_seen=r.times_seen,
            status=r.status,
        )
        for r in await sim.store.requests(code)
    ]


@admin.post("/agencies/{code}/requests/{reference}/decision", response_model=AgencyRequestStatus)
async def manual_decision(code: Code, request: Known, order: ManualDecision, sim: Sim) -> AgencyRequestStatus:
    """Decide by hand; delivered as in the agency's mode (webhook or poll)."""
    stored = await sim.decide_manually(code, request, order)
    if stored is None:
        detail = f"Request {request.reference!r} was withdrawn; it cannot be decided"
        raise ProblemError(409, "Request withdrawn", detail)
    return stored.view()


@admin.get("/agencies/{code}/calls")
async def calls(code: Code, sim: Sim, limit: int = Query(default=100, ge=1, le=1000)) -> list[dict]:
    """The latest agency API calls of this agency, newest first, with the fault played if any."""
    return await sim.store.calls(code, limit)


@admin.post("/payments", response_model=PaymentResult)
async def payment(order: PaymentOrder, sim: Sim) -> PaymentResult:
    """Play the bank: send a signed payment webhook to our API (or `callback_url`)."""
    return await sim.pay(order)


@admin.post("/reset")
async def reset(sim: Sim) -> dict:
    """Forget every request, behaviour, outage and pending delivery (for tests)."""
    await sim.reset()
    return {"reset": True}
