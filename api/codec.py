"""The codec endpoint an officer's Temporal UI (or `temporal --codec-endpoint`) decodes encrypted payloads through.

`POST /codec/decode` and `POST /codec/encode` speak the Temporal codec-server protocol
(`{"payloads": [{"metadata": {name: base64}, "data": base64}]}`) with the keys of this API's own
Temporal client (workers/codec.py). Officers only, by bearer token; browsers may call it only from the
configured Temporal UI origins (`JFC_CODEC_CORS_ORIGINS`), and CORS headers are sent on this router alone.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Coroutine
from typing import Any

import structlog
from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from api.access import Officer
from api.auth import auth_responses
from api.context import Context
from api.problems import ApiProblem, responses
from workers.codec import PayloadDecryptionError

log = structlog.get_logger("jfc.api")

MAX_PAYLOADS = 10_000
ALLOWED_HEADERS = "Authorization, Content-Type, X-Namespace"
PREFLIGHT_MAX_AGE = "600"


class CodecRoute(APIRoute):
    """A route that answers with CORS headers for an allowed origin, its problem documents included."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_cors(request: Request) -> Response:
            try:
                response = await handler(request)
            except Exception as exc:  # render it here, so the browser may read the problem too
                on_error = _handler_for(request, exc)
                if on_error is None:
                    raise
                response = await on_error(request, exc)
            _allow_origin(request, response)
            return response

        return with_cors


# The Temporal codec-server protocol, not the versioned JFC API: kept out of /openapi.json (its POSTs take no
# Idempotency-Key: decoding and encoding change nothing); README "Payload encryption and the Temporal UI".
router = APIRouter(prefix="/codec", tags=["operations"], route_class=CodecRoute, include_in_schema=False)


class CodecPayload(BaseModel):
    """One payload in protobuf JSON: metadata values and data in standard base64."""

    metadata: dict[str, str] = Field(default_factory=dict)
    data: str = ""


class CodecPayloads(BaseModel):
    payloads: list[CodecPayload] = Field(max_length=MAX_PAYLOADS)


@router.post(
    "/decode", response_model=CodecPayloads, summary="Decrypt payloads for the Temporal UI (officers)",
    responses={**auth_responses(), **responses(422, 503)},
)
async def decode(body: CodecPayloads, ctx: Context, officer: Officer, request: Request) -> CodecPayloads:
    codec = _codec(ctx)
    try:
        decoded = await codec.decode(_to_protos(body))
    except PayloadDecryptionError as err:
        raise ApiProblem(422, "payload cannot be decrypted", str(err), kind="undecryptable-payload") from None
    log.info("payloads decoded", account=officer.account_id, count=len(decoded),
             namespace=request.headers.get("x-namespace"))
    return _from_protos(decoded)


@router.post(
    "/encode", response_model=CodecPayloads, summary="Encrypt payloads for the Temporal UI (officers)",
    responses={**auth_responses(), **responses(422, 503)},
)
async def encode(body: CodecPayloads, ctx: Context, officer: Officer) -> CodecPayloads:
    return _from_protos(await _codec(ctx).encode(_to_protos(body)))


@router.options("/{action}", include_in_schema=False)
async def preflight(action: str, request: Request) -> Response:
    """The browser's CORS preflight: allowed for the configured Temporal UI origins only."""
    origin = request.headers.get("origin")
    if action not in ("decode", "encode") or origin not in _origins(request):
        return Response(status_code=403)
    return Response(status_code=204, headers={
        "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
    })


def _codec(ctx: Any) -> PayloadCodec:
    codec = ctx.temporal.data_converter.payload_codec
    if codec is None:
        raise ApiProblem(503, "no payload codec", "This API's Temporal client encrypts nothing, so it decodes nothing.",
                         kind="codec-unavailable")
    return codec


def _to_protos(body: CodecPayloads) -> list[Payload]:
    protos = []
    for n, payload in enumerate(body.payloads):
        try:
            metadata = {name: _unbase64(value) for name, value in payload.metadata.items()}
            protos.append(Payload(metadata=metadata, data=_unbase64(payload.data)))
        except binascii.Error:
            raise ApiProblem(422, "invalid payload", f"payloads[{n}]: metadata and data must be standard base64",
                             kind="invalid-body") from None
    return protos


def _from_protos(payloads: list[Payload]) -> CodecPayloads:
    return CodecPayloads(payloads=[
        CodecPayload(metadata={name: _base64(value) for name, value in p.metadata.items()}, data=_base64(p.data))
        for p in payloads
    ])


def _unbase64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _base64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _origins(request: Request) -> list[str]:
    return request.app.state.jfc.settings.codec_cors_origins


def _allow_origin(request: Request, response: Response) -> None:
    origin = request.headers.get("origin")
    if origin and origin in _origins(request):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Vary"] = "Origin"


def _handler_for(request: Request, exc: Exception) -> Any:
    handlers = request.app.exception_handlers
    return next((handlers[kind] for kind in type(exc).__mro__ if kind in handlers and kind is not Exception), None)
