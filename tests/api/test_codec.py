"""The codec endpoint for the Temporal UI: officers decode, nobody else; browsers only from the UI's origin."""

from __future__ import annotations

import base64
import os

from temporalio.api.common.v1 import Payload

from config.secrets import CodecKey
from tests.api.conftest import Api
from workers.codec import ENCODING, KEY_ID, EncryptionCodec

UI = "http://localhost:8233"
PERSONAL = b'{"passport_number": "M1234567", "email": "sari@contoh.id"}'


def as_json(payloads: list[Payload]) -> dict:
    """The codec-server protocol's body: protobuf JSON, bytes in base64."""
    return {"payloads": [{"metadata": {k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
                          "data": base64.b64encode(p.data).decode()} for p in payloads]}


async def sealed(api: Api) -> dict:
    plain = Payload(metadata={"encoding": b"json/plain"}, data=PERSONAL)
    return as_json(await api.temporal.data_converter.payload_codec.encode([plain]))


async def test_an_officer_decodes_what_the_workers_encrypted(api: Api) -> None:
    body = await sealed(api)
    assert PERSONAL not in base64.b64decode(body["payloads"][0]["data"])
    response = await api.http.post("/codec/decode", json=body, headers={**api.as_("officer"), "X-Namespace": "default"})
    assert response.status_code == 200, response.text
    assert response.json() == as_json([Payload(metadata={"encoding": b"json/plain"}, data=PERSONAL)])


async def test_decode_refuses_other_roles_and_no_token(api: Api) -> None:
    body = await sealed(api)
    for role in ("applicant", "auditor", "agency:parks"):
        response = await api.http.post("/codec/decode", json=body, headers=api.as_(role))
        assert response.status_code == 403, (role, response.text)
        assert "officer" in response.json()["detail"] and "M1234567" not in response.text
    response = await api.http.post("/codec/decode", json=body, headers=api.as_(None))
    assert response.status_code == 401 and "M1234567" not in response.text
    assert (await api.http.post("/codec/encode", json=body, headers=api.as_("applicant"))).status_code == 403


async def test_an_officer_encodes_with_the_newest_key(api: Api) -> None:
    plain = as_json([Payload(metadata={"encoding": b"json/plain"}, data=b'"hello"')])
    response = await api.http.post("/codec/encode", json=plain, headers=api.as_("officer"))
    assert response.status_code == 200, response.text
    [encoded] = response.json()["payloads"]
    assert base64.b64decode(encoded["metadata"]["encoding"]) == ENCODING
    assert base64.b64decode(encoded["metadata"][KEY_ID]).decode() == api.temporal.data_converter.payload_codec.key_id
    back = await api.http.post("/codec/decode", json=response.json(), headers=api.as_("officer"))
    assert back.json() == plain


async def test_an_unknown_key_or_bad_base64_is_a_named_problem(api: Api) -> None:
    foreign = EncryptionCodec([CodecKey("someone-elses", os.urandom(32))])
    body = as_json(await foreign.encode([Payload(data=b"x")]))
    response = await api.http.post("/codec/decode", json=body, headers=api.as_("officer"))
    assert response.status_code == 422 and "'someone-elses'" in response.json()["detail"]
    response = await api.http.post("/codec/decode", json={"payloads": [{"data": "not base64!"}]},
                                   headers=api.as_("officer"))
    assert response.status_code == 422 and "payloads[0]" in response.json()["detail"]


async def test_cors_only_for_the_temporal_ui_origin(api: Api) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}
    ok = await api.http.options("/codec/decode", headers={"Origin": UI, **preflight})
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == UI
    assert "Authorization" in ok.headers["access-control-allow-headers"]
    evil = await api.http.options("/codec/decode", headers={"Origin": "https://evil.example", **preflight})
    assert evil.status_code == 403 and "access-control-allow-origin" not in evil.headers

    body = await sealed(api)
    from_ui = await api.http.post("/codec/decode", json=body, headers={"Origin": UI, **api.as_("officer")})
    assert from_ui.status_code == 200 and from_ui.headers["access-control-allow-origin"] == UI
    refused = await api.http.post("/codec/decode", json=body, headers={"Origin": UI, **api.as_(None)})
    assert refused.status_code == 401 and refused.headers["access-control-allow-origin"] == UI  # readable by the UI
    elsewhere = await api.http.post("/codec/decode", json=body,
                                    headers={"Origin": "https://evil.example", **api.as_("officer")})
    assert "access-control-allow-origin" not in elsewhere.headers
    # the rest of the API sends no CORS headers at all
    health = await api.http.get("/healthz", headers={"Origin": UI})
    assert "access-control-allow-origin" not in health.headers
