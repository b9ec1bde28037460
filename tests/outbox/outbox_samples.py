"""A webhook receiver for the outbox tests: checks each signature, records every request, answers as scripted."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from activities.outbox_relay import OutboxRelay
from domain.signatures import SIGNATURE_HEADER, SignatureError, verify
from schemas.contracts import Notification

APPLICATION_ID = "JFC-2027-000123"


def secret_for(organisation_id: str | None) -> bytes:
    """Each organisation its own secret, so a test sees which one signed."""
    return f"secret-of-{organisation_id or 'nobody'}".encode()


def local_relay(pool: asyncpg.Pool, http: httpx.AsyncClient, **options: Any) -> OutboxRelay:
    """A relay that may send to the tests' receivers on loopback (JFC_ALLOW_LOOPBACK_WEBHOOKS, as in the local stack)."""
    return OutboxRelay(pool, http, options.pop("secret_for", secret_for), allow_loopback=True, **options)


@dataclass
class Receipt:
    organisation: str
    key: str | None
    body: dict
    signed: bool
    status: int


@dataclass
class Receiver:
    """An applicant's webhook at `{url}/hooks/{organisation}`; `script` holds the next answers (then 200)."""

    url: str = ""
    script: list[int | tuple[int, dict[str, str]]] = field(default_factory=list)
    delay: float = 0.0
    receipts: list[Receipt] = field(default_factory=list)

    def hook(self, organisation: str) -> str:
        return f"{self.url}/hooks/{organisation}"

    def accepted(self) -> Counter[str]:
        """How many times each key was answered with a 2xx."""
        return Counter(r.key for r in self.receipts if 200 <= r.status < 300)

    def app(self) -> Starlette:
        async def receive(request: Request) -> Response:
            organisation = request.path_params["organisation"]
            body = await request.body()
            try:
                verify(secret_for(organisation), request.headers.get(SIGNATURE_HEADER), body, time.time())
                signed = True
            except SignatureError:
                signed = False
            if self.delay:
                await asyncio.sleep(self.delay)
            answer = self.script.pop(0) if self.script else 200
            status, headers = answer if isinstance(answer, tuple) else (answer, {})
            if not signed:
                status = 401
            key = request.headers.get("Idempotency-Key")
            self.receipts.append(Receipt(organisation, key, json.loads(body), signed, status))
            return JSONResponse({"ok": 200 <= status < 300}, status_code=status, headers=headers)

        return Starlette(routes=[Route("/hooks/{organisation}", receive, methods=["POST"])])


def note(webhook_url: str | None, *, kind: str = "payment_due", key: str | None = None, organisation: str = "ORG-A",
         audience: str = "applicant", detail: str = "1500000 IDR by 2027-01-05") -> Notification:  # fmt: skip
    return Notification(
        application_id=APPLICATION_ID, kind=kind, audience=audience, detail=detail, key=key,
        organisation_id=organisation, webhook_url=webhook_url,
    )  # fmt: skip
