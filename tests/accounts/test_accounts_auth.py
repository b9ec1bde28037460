"""The bearer-token dependency: 401 problems with a challenge, 403 for other roles, the caller otherwise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI

from api import problems
from api.auth import CurrentPrincipal, PrincipalCache, auth_responses, require_roles
from store.accounts import Principal, Role, create_account, revoke


def tiny_app(pool, *, via: str = "pool") -> FastAPI:
    app = FastAPI()
    problems.install(app)
    if via == "context":
        @dataclass(frozen=True)
        class Context:
            pool: object

        app.state.jfc = Context(pool=pool)
    else:
        setattr(app.state, via, pool)

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> Principal:
        return principal

    @app.get("/officer", responses=auth_responses())
    async def officer_only(principal: Annotated[Principal, Depends(require_roles(Role.officer))]) -> Principal:
        return principal

    @app.get("/staff")
    async def staff(principal: Annotated[Principal, Depends(require_roles("officer", "auditor"))]) -> Principal:
        return principal

    return app


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def tokens(pool) -> dict[str, str]:
    result = {}
    for role, extra in (("applicant", {"organisation": "PT Contoh Film"}), ("officer", {}), ("auditor", {}),
                        ("agency", {"agency": "parks"})):
        _, result[role] = await create_account(pool, name=f"Demo {role}", role=role, **extra)
    return result


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({}, None),
        ({"Authorization": "Basic c2FyaTpzZWNyZXQ="}, None),
        ({"Authorization": "Bearer "}, None),
        (bearer("jfc_not-a-real-token"), "invalid_token"),
        (bearer("something-else"), "invalid_token"),
    ],
)
async def test_no_or_a_bad_token_is_a_401_problem_with_a_challenge(pool, headers, error):
    async with client(tiny_app(pool)) as http:
        response = await http.get("/me", headers=headers)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith('Bearer realm="jfc"')
    assert ("invalid_token" in response.headers["www-authenticate"]) == (error is not None)
    body = response.json()
    assert body["status"] == 401 and body["type"] == "urn:jfc:problem:unauthorized"
    assert "Bearer" in body["detail"] or "revoked" in body["detail"]


async def test_the_right_token_gives_the_caller(pool, tokens):
    async with client(tiny_app(pool)) as http:
        response = await http.get("/me", headers=bearer(tokens["applicant"]))
        officer = await http.get("/officer", headers=bearer(tokens["officer"]))
        auditor = await http.get("/staff", headers=bearer(tokens["auditor"]))

    assert response.status_code == 200
    me = response.json()
    assert me["role"] == "applicant" and me["organisation_id"].startswith("ORG-") and me["agency"] is None
    assert "token" not in response.text
    assert officer.status_code == 200 and officer.json()["role"] == "officer"
    assert auditor.status_code == 200 and auditor.json()["role"] == "auditor"


@pytest.mark.parametrize(("path", "role"), [("/officer", "applicant"), ("/officer", "auditor"),
                                            ("/officer", "agency"), ("/staff", "applicant"), ("/staff", "agency")])
async def test_another_role_is_a_403_problem(pool, tokens, path, role):
    async with client(tiny_app(pool)) as http:
        response = await http.get(path, headers=bearer(tokens[role]))

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "urn:jfc:problem:forbidden"
    assert "yours" in body["detail"] and role in body["detail"]


@pytest.mark.parametrize("via", ["context", "read_model", "pool"])
async def test_the_pool_comes_from_the_context_or_the_app_state(pool, tokens, via):
    async with client(tiny_app(pool, via=via)) as http:
        response = await http.get("/officer", headers=bearer(tokens["officer"]))
    assert response.status_code == 200


async def test_without_a_database_it_is_a_503_problem(tokens):
    async with client(tiny_app(None)) as http:
        response = await http.get("/me", headers=bearer(tokens["officer"]))
    assert response.status_code == 503
    assert response.json()["type"] == "urn:jfc:problem:accounts-unavailable"


async def test_a_revoked_token_stops_working_when_its_cache_entry_expires(pool):
    account, token = await create_account(pool, name="Dewi", role="officer")
    now = [0.0]
    app = tiny_app(pool)
    app.state.principal_cache = PrincipalCache(ttl=30, clock=lambda: now[0])

    async with client(app) as http:
        assert (await http.get("/me", headers=bearer(token))).status_code == 200
        await revoke(pool, account.id)
        now[0] = 29.0
        assert (await http.get("/me", headers=bearer(token))).status_code == 200  # still cached
        now[0] = 30.5
        response = await http.get("/me", headers=bearer(token))

    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


async def test_without_a_cache_a_revoked_token_fails_at_once(pool):
    account, token = await create_account(pool, name="Dewi", role="officer")
    app = tiny_app(pool)
    app.state.principal_cache = PrincipalCache(ttl=0)
    async with client(app) as http:
        assert (await http.get("/me", headers=bearer(token))).status_code == 200
        await revoke(pool, account.id)
        assert (await http.get("/me", headers=bearer(token))).status_code == 401


def test_the_cache_is_bounded():
    cache = PrincipalCache(ttl=30, max_size=2, clock=lambda: 0.0)
    principals = [Principal(account_id=f"ACC-{n}", name="x", role=Role.officer) for n in range(3)]
    for n, principal in enumerate(principals):
        cache.put(f"k{n}", principal)
    assert cache.get("k0") is None and cache.get("k2") == principals[2]


def test_openapi_declares_the_bearer_scheme():
    schema = tiny_app(None).openapi()

    assert schema["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "jfc_<random>",
        "description": schema["components"]["securitySchemes"]["bearer"]["description"],
    }
    for path in ("/me", "/officer", "/staff"):
        assert schema["paths"][path]["get"]["security"] == [{"bearer": []}]
    assert {"401", "403"} <= set(schema["paths"]["/officer"]["get"]["responses"])


def test_require_roles_names_real_roles():
    with pytest.raises(ValueError):
        require_roles("admin")
    with pytest.raises(ValueError):
        require_roles()
