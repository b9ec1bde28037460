"""Every error the API answers is a problem document (RFC 9457 shape) listing each problem with its field path."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemas.problems import Problem, ProblemDocument
from store.pool import DATABASE_DOWN

PROBLEM_MEDIA_TYPE = "application/problem+json"
BODY_PATH = "(body)"  # the path of a problem with the body as a whole (not JSON, not an object)
TYPE_PREFIX = "urn:jfc:problem:"

log = structlog.get_logger("jfc.api")


class ApiProblem(Exception):
    """Raised by a route to answer with a problem document; `kind` becomes `urn:jfc:problem:<kind>`."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        *,
        kind: str | None = None,
        problems: Iterable[Problem] = (),
        earliest_feasible_start: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.document = ProblemDocument(
            type=f"{TYPE_PREFIX}{kind}" if kind else "about:blank",
            title=title,
            status=status,
            detail=detail,
            problems=list(problems),
            earliest_feasible_start=earliest_feasible_start,
        )
        self.headers = headers

    def response(self) -> JSONResponse:
        return problem_response(self.document, headers=self.headers)


def problem_response(document: ProblemDocument, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        document.model_dump(mode="json", exclude_none=True),
        status_code=document.status,
        headers=headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


# ---- field paths ------------------------------------------------------------------


def field_path(loc: Sequence[str | int]) -> str:
    """`('locations', 1, 'days', 0, 'date')` → `locations[1].days[0].date`; the body itself is `(body)`."""
    text = ""
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or BODY_PATH


def _message(error: Any) -> str:
    message = str(error.get("msg", "invalid value"))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


def problems_from_errors(errors: Iterable[Any], *, strip: Sequence[str] = ()) -> list[Problem]:
    """One Problem per pydantic error, in order; never echoes the input (it may hold personal data)."""
    problems = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        if error.get("type") == "json_invalid":
            loc = ()
        elif loc and loc[0] in strip:
            loc = loc[1:]
        problems.append(Problem(path=field_path(loc), message=_message(error)))
    return problems


def invalid_body(exc: ValidationError, what: str) -> ApiProblem:
    """The 422 answer for a body that is not valid JSON or does not match its model."""
    problems = problems_from_errors(exc.errors(include_input=False, include_url=False))
    count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
    return ApiProblem(
        422,
        f"invalid {what}",
        f"{count} found; fix each field listed in `problems` and send it again.",
        kind="invalid-body",
        problems=problems,
    )


# ---- handlers ---------------------------------------------------------------------


async def _on_api_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiProblem)
    return exc.response()


async def _on_request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = problems_from_errors(exc.errors(), strip=("body",))
    return problem_response(
        ProblemDocument(
            type=f"{TYPE_PREFIX}invalid-request",
            title="invalid request",
            status=422,
            detail=f"{len(problems)} problem(s) with the request; see `problems`.",
            problems=problems,
        )
    )


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    try:
        title = HTTPStatus(exc.status_code).phrase
    except ValueError:
        title = "error"
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else ""
    if exc.status_code == 404 and not detail:
        detail = f"nothing at {request.url.path}; see /openapi.json for what this API serves"
    return problem_response(
        ProblemDocument(title=title.lower(), status=exc.status_code, detail=detail),
        headers=dict(exc.headers) if exc.headers else None,
    )


class ProblemMiddleware:
    """Turns an unexpected exception into a bare 500 problem (no stack trace leaves the server) and logs it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        structlog.contextvars.clear_contextvars()
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except DATABASE_DOWN as err:
            log.warning("database unavailable", method=scope.get("method"), path=scope.get("path"),
                        error=type(err).__name__)
            if started:
                raise
            response = problem_response(ProblemDocument(
                type=f"{TYPE_PREFIX}database-unavailable", title="database unavailable", status=503,
                detail="The commission's database does not answer right now; try again in a minute (sent again "
                "with the same Idempotency-Key, a request acts once)."), headers={"Retry-After": "30"})
            await response(scope, receive, send)
        except Exception:
            log.exception("unexpected error", method=scope.get("method"), path=scope.get("path"))
            if started:
                raise
            response = problem_response(
                ProblemDocument(
                    type=f"{TYPE_PREFIX}internal",
                    title="internal error",
                    status=500,
                    detail="Something went wrong on our side and has been logged; try again later.",
                )
            )
            await response(scope, receive, send)
        finally:
            structlog.contextvars.clear_contextvars()


def install(app: FastAPI) -> None:
    """Install the problem handlers and the 500 middleware on `app`."""
    app.add_exception_handler(ApiProblem, _on_api_problem)
    app.add_exception_handler(RequestValidationError, _on_request_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_middleware(ProblemMiddleware)


# ---- OpenAPI ----------------------------------------------------------------------

_DESCRIPTIONS = {
    400: "Bad request (e.g. a required header is missing)",
    401: "Signature missing, forged or stale",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Body too large",
    422: "Invalid input; every problem is listed with its field path",
    503: "A dependency (the workflow engine) is unavailable; retry later",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for problem documents with these status codes (500 is always added)."""
    result: dict[int | str, dict[str, Any]] = {
        code: {"model": ProblemDocument, "description": _DESCRIPTIONS.get(code, HTTPStatus(code).phrase)}
        for code in codes
    }
    result[500] = {"model": ProblemDocument, "description": "Unexpected error (no details are disclosed)"}
    return result
