"""What every request must pass before any route, authentication or signature check reads it.

- A body is capped per route before it is read: a declared Content-Length over the limit is refused
  at once, a streamed body as soon as it passes the limit (413). Webhooks get the smallest limit.
- No text may carry a NUL or another control character (tab, newline and carriage return excepted) or
  a lone surrogate, in the query or anywhere in a JSON body: PostgreSQL cannot store them and a
  person cannot see them. Each offending value is named by its path (422), so nothing is accepted
  that a projection would later fail on.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import TYPE_PREFIX, field_path, problem_response
from schemas.problems import Problem, ProblemDocument

KIB = 1024
WEBHOOK_LIMIT = 64 * KIB
SUBMISSION_LIMIT = 1_000 * KIB  # a permit application with many locations and days
DEFAULT_LIMIT = 256 * KIB
CODEC_LIMIT = 8 * 1_000 * KIB  # the Temporal UI decoding a history page of encrypted payloads
ALLOWED_CONTROLS = frozenset("\t\n\r")


@dataclass(frozen=True)
class RouteLimit:
    pattern: re.Pattern[str]
    bytes: int


ROUTE_LIMITS = (
    RouteLimit(re.compile(r"^/v1/agencies/[^/]+/decisions$"), WEBHOOK_LIMIT),
    RouteLimit(re.compile(r"^/v1/payments/webhook$"), WEBHOOK_LIMIT),
    RouteLimit(re.compile(r"^/v1/auditors/decisions$"), WEBHOOK_LIMIT),
    RouteLimit(re.compile(r"^/v1/permits(/[^/]+/amendments)?$"), SUBMISSION_LIMIT),
    RouteLimit(re.compile(r"^/v1/incentives/[^/]+/claim$"), SUBMISSION_LIMIT),
    RouteLimit(re.compile(r"^/codec/(en|de)code$"), CODEC_LIMIT),
)


def body_limit(path: str) -> int:
    """The most bytes a request body to `path` may have."""
    return next((limit.bytes for limit in ROUTE_LIMITS if limit.pattern.match(path)), DEFAULT_LIMIT)


def forbidden_character(text: str) -> str | None:
    """A description of the first character `text` may not hold, or None when it is clean."""
    for char in text:
        category = unicodedata.category(char)
        if (category == "Cc" and char not in ALLOWED_CONTROLS) or category == "Cs":
            kind = "a NUL character" if char == "\x00" else f"the control character U+{ord(char):04X}"
            return kind if category == "Cc" else f"the lone surrogate U+{ord(char):04X}"
    return None


def text_problems(value: Any, loc: tuple[str | int, ...] = ()) -> Iterator[Problem]:
    """Every string (object keys included) in a parsed JSON `value` holding a forbidden character."""
    if isinstance(value, str):
        found = forbidden_character(value)
        if found:
            yield Problem(path=field_path(loc), message=f"contains {found}; remove it (text may hold no control "
                                                        "characters but tab and line breaks)")
    elif isinstance(value, dict):
        for key, item in value.items():
            found = forbidden_character(key)
            if found:
                yield Problem(path=field_path((*loc, "(key)")), message=f"a field name contains {found}")
                continue
            yield from text_problems(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from text_problems(item, (*loc, index))


def query_problems(query_string: bytes) -> list[Problem]:
    try:
        pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, encoding="utf-8",
                          errors="surrogateescape")
    except ValueError:
        return [Problem(path="(query)", message="the query string cannot be read")]
    problems = []
    for name, value in pairs:
        in_name = forbidden_character(name)
        found = in_name or forbidden_character(value)
        if found:
            problems.append(Problem(path="query.(name)" if in_name else f"query.{name}",
                                    message=f"contains {found}; remove it"))
    return problems


def _problem(status: int, kind: str, title: str, detail: str, problems: list[Problem] | None = None):
    return problem_response(ProblemDocument(type=f"{TYPE_PREFIX}{kind}", title=title, status=status, detail=detail,
                                            problems=problems or []))


class BodyTooLarge(Exception):
    pass


class EdgeGuard:
    """ASGI middleware enforcing the limits above on every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        bad_query = query_problems(scope.get("query_string", b""))
        if bad_query:
            await _problem(422, "invalid-request", "invalid request", "A query parameter holds a character that is "
                           "not allowed.", bad_query)(scope, receive, send)
            return
        limit = body_limit(scope["path"])
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await _problem(400, "bad-request", "bad request", "Content-Length is not a number.")(
                    scope, receive, send)
                return
            if int(declared) > limit:
                await self._too_large(scope, receive, send, limit)
                return
        try:
            body = await self._read(receive, limit)
        except BodyTooLarge:
            await self._too_large(scope, receive, send, limit)
            return
        if body:
            problems = self._text_problems(body)
            if problems:
                count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
                await _problem(422, "invalid-body", "invalid text", f"{count} found; fix each field listed in "
                               "`problems` and send it again.", problems)(scope, receive, send)
                return
        await self.app(scope, self._replay(body, receive), send)

    @staticmethod
    async def _read(receive: Receive, limit: int) -> bytes:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    @staticmethod
    def _text_problems(body: bytes) -> list[Problem]:
        try:
            value = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return []  # not JSON: the route answers for it
        return list(text_problems(value))

    @staticmethod
    def _replay(body: bytes, receive: Receive) -> Receive:
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay

    @staticmethod
    async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        await _problem(413, "body-too-large", "body too large", f"The body of {scope['path']} may have at most "
                       f"{limit} bytes.")(scope, receive, send)
