"""The API's `/metrics` (Prometheus text): the product gauges from the read model and requests by route and status.

Public and left out of the OpenAPI document, like any scrape target: labels name routes as templates
(`/v1/permits/{application_id}`), never an id, a token or a name.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workers.metrics import ReadModelCollector

router = APIRouter(tags=["operations"])
UNMATCHED = "unmatched"  # a path no route serves (or one refused before routing): one label, whatever was asked


def install(app: FastAPI) -> None:
    """Serve `/metrics` on `app` and count its requests (the middleware goes outermost: every answer counts)."""
    registry = CollectorRegistry(auto_describe=False)
    app.state.metrics = registry
    app.state.requests = Counter("jfc_api_requests", "API requests answered, by method, route template and status",
                                 ["method", "route", "status"], registry=registry)
    app.include_router(router)
    app.add_middleware(RequestCounter)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    registry = request.app.state.metrics
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(ReadModelCollector(request.app.state.read_model, asyncio.get_running_loop()))
    scrape.register(_Union(registry))
    body = await asyncio.to_thread(generate_latest, scrape)  # the collector waits for this loop: not on it
    return Response(body, media_type=CONTENT_TYPE_LATEST)


class _Union:
    """Another registry's metrics, to scrape them together with the read model's."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def describe(self) -> list:
        return []

    def collect(self):
        return self.registry.collect()


class RequestCounter:
    """Counts every answered request as (method, route template, status)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            scope["app"].state.requests.labels(scope["method"], route, str(status[0])).inc()
