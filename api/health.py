"""Liveness for operators and orchestrators: the API answers, Temporal is reachable, the read model keeps up."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

import asyncpg
import structlog
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.context import Context
from api.problems import ApiProblem, responses
from store.projection_failures import count_failures

router = APIRouter(tags=["operations"])
log = structlog.get_logger("jfc.api")


class Health(BaseModel):
    status: Literal["ok", "degraded"] = "ok"
    temporal: Literal["reachable"] = "reachable"
    rule_set: str
    projection_failures: int | None = Field(
        default=None, description="Workflows whose latest projection the read model refused for good (bad data); "
        "`degraded` when any. None: no read model configured")


@router.get("/healthz", response_model=Health, summary="Health check", responses=responses(503))
async def healthz(ctx: Context, request: Request) -> Health:
    try:
        serving = await ctx.temporal.service_client.check_health(timeout=timedelta(seconds=3))
    except Exception as err:
        log.warning("health check: Temporal unreachable", error=str(err))
        serving = False
    if not serving:
        raise ApiProblem(
            503,
            "Temporal unreachable",
            f"The workflow engine at {ctx.settings.temporal_address} does not answer.",
            kind="temporal-unavailable",
        )
    failures = await _projection_failures(request.app.state.read_model)
    return Health(status="degraded" if failures else "ok", rule_set=ctx.rules.version, projection_failures=failures)


async def _projection_failures(pool: asyncpg.Pool | None) -> int | None:
    if pool is None:
        return None
    try:
        return await count_failures(pool)
    except Exception as err:  # noqa: BLE001 — the read model's own outage is not the API's liveness
        log.warning("health check: read model unreadable", error=type(err).__name__)
        return None
