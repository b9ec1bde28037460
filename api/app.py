"""The JFC HTTP API: applicants, agency and payment webhooks, public verification (design §6)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from temporalio.client import Client

from api import (
    actions,
    codec,
    funds,
    health,
    incentive_officer,
    incentives as incentive_routes,
    listing,
    metrics,
    officer,
    permits,
    problems,
    reports,
    verify,
    webhooks,
)
from api.access import IDEMPOTENCY_DESCRIPTION, IDEMPOTENCY_HEADER, MAX_KEY_LENGTH
from api.context import ApiContext
from api.edge import EdgeGuard
from config.secrets import webhook_secret
from web import routes as web_routes
from config.settings import Settings
from schemas.application import PermitApplication
from domain.incentive_rules import default_incentive_rules
from schemas.catalog import RuleSet
from schemas.incentives import IncentiveApplication, IncentiveRules
from schemas.decisions import AgencyDecision, Payment
from schemas.incentive_api import AuditDecision

API_VERSION = "1.0.0"

# Bodies read raw (for signatures and exact problem paths) and declared in OpenAPI by reference.
RAW_BODY_MODELS: tuple[type[BaseModel], ...] = (PermitApplication, AgencyDecision, Payment, IncentiveApplication,
                                                 AuditDecision)


def create_app(
    settings: Settings,
    temporal: Client,
    rules: RuleSet,
    secrets: Callable[[str], bytes] | None = None,
    clock: Callable[[], datetime] | None = None,
    pool: asyncpg.Pool | None = None,
    incentives: IncentiveRules | None = None,
) -> FastAPI:
    """The API bound to one Temporal client and one rule set.

    `secrets(ref)` returns a webhook secret (default: env or the state folder's dev secrets);
    `clock()` returns the aware current time (default: UTC now); `pool` is the read model's
    (without one, reports and the permit list answer 503); `incentives` the programmes' rule data
    (default: the settings' incentives file).
    """
    app = FastAPI(
        title="Jakarta Film Commission API",
        version=API_VERSION,
        description="Filming permits and production incentives in Jakarta: apply, follow, pay, claim, verify. "
        "Every error is a problem document.",
    )
    app.state.jfc = ApiContext(
        settings=settings,
        temporal=temporal,
        rules=rules,
        secrets=secrets or (lambda ref: webhook_secret(ref, settings.state_dir)),
        clock=clock or (lambda: datetime.now(UTC)),
        incentives=incentives or default_incentive_rules(settings),
    )
    app.state.read_model = pool
    problems.install(app)
    app.add_middleware(EdgeGuard)  # outermost: limits and text checks come before any route or authentication
    for module in (permits, listing, actions, officer, reports, webhooks, verify, health, incentive_routes,
                   incentive_officer, funds, codec):
        app.include_router(module.router)
    web_routes.install(app)  # the pages: /web (server-rendered, same accounts and rules)
    metrics.install(app)  # /metrics (not in the OpenAPI document) and the request counter, outermost
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema plus the models of the bodies routes read raw."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in RAW_BODY_MODELS:
        model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode="validation")
        for name, definition in model_schema.pop("$defs", {}).items():
            components.setdefault(name, definition)
        components[model.__name__] = model_schema
    _problem_documents_for_validation_errors(schema)
    _problem_media_type(schema)
    _required_idempotency_keys(schema)
    app.openapi_schema = schema
    return schema


def _problem_documents_for_validation_errors(schema: dict[str, Any]) -> None:
    """FastAPI documents parameter errors as HTTPValidationError; ours answer a ProblemDocument."""
    problem_ref = {"$ref": "#/components/schemas/ProblemDocument"}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            response = operation.get("responses", {}).get("422")
            content = (response or {}).get("content", {}).get("application/json", {})
            if content.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
                response["description"] = "Invalid request; every problem is listed with its field path"
                content["schema"] = problem_ref
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)


def _problem_media_type(schema: dict[str, Any]) -> None:
    """Error answers are `application/problem+json`: say so wherever a ProblemDocument is documented."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for code, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                body = content.get("application/json")
                if code[:1] in "45" and body and body.get("schema", {}).get("$ref", "").endswith("/ProblemDocument"):
                    content[problems.PROBLEM_MEDIA_TYPE] = content.pop("application/json")


def _required_idempotency_keys(schema: dict[str, Any]) -> None:
    """The Idempotency-Key a route insists on is required (a missing one answers 400, not 422)."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "header" and parameter.get("name") == IDEMPOTENCY_HEADER \
                        and parameter.get("description") == IDEMPOTENCY_DESCRIPTION:
                    parameter["required"] = True
                    parameter["schema"] = {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH,
                                           "pattern": "\\S", "title": IDEMPOTENCY_HEADER}
