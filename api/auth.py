"""Who is calling: bearer tokens resolved to a Principal, and the roles a route admits.

Use in a route:

    @router.get("/v1/officer/queue", responses=auth_responses())
    async def queue(principal: Annotated[Principal, Depends(require_roles(Role.officer))]): ...

or `principal: CurrentPrincipal` when every role may call it and the route filters by itself.

Where the pool comes from, first found: the app context's `pool` (`request.app.state.jfc.pool`,
once ApiContext carries one), else `request.app.state.read_model` (what create_app sets today),
else `request.app.state.pool`. Without any, every authenticated route answers 503.

Resolved tokens are cached in memory for `DEFAULT_CACHE_TTL` (30 s) per app, so most
requests cost no database round trip; the price is that a revoked token keeps working
for up to 30 s in an API process that used it just before. Unknown tokens are not cached.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.problems import ApiProblem
from schemas.problems import ProblemDocument
from store.accounts import Principal, Role, authenticate, token_hash

DEFAULT_CACHE_TTL = 30.0  # seconds a resolved token is trusted without asking the database again
DEFAULT_CACHE_SIZE = 4096
REALM = "jfc"

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="jfc_<random>",
    description="An account's token, as `jfc accounts create` printed it (or `.jfc/demo-tokens.json` locally).",
)


class PrincipalCache:
    """Tokens resolved recently (keyed by their hash, never the token itself), each trusted for `ttl` seconds."""

    def __init__(self, ttl: float = DEFAULT_CACHE_TTL, max_size: int = DEFAULT_CACHE_SIZE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, Principal]] = OrderedDict()

    def get(self, key: str) -> Principal | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, principal = entry
        if self.clock() >= expires:
            del self._entries[key]
            return None
        return principal

    def put(self, key: str, principal: Principal) -> None:
        if self.ttl <= 0:
            return
        self._entries[key] = (self.clock() + self.ttl, principal)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


def principal_cache(app: FastAPI) -> PrincipalCache:
    """The app's cache, created on first use; set `app.state.principal_cache` to choose another TTL."""
    cache = getattr(app.state, "principal_cache", None)
    if cache is None:
        cache = app.state.principal_cache = PrincipalCache()
    return cache


def _pool(request: Request) -> asyncpg.Pool:
    state = request.app.state
    for pool in (getattr(getattr(state, "jfc", None), "pool", None), getattr(state, "read_model", None),
                 getattr(state, "pool", None)):
        if pool is not None:
            return pool
    raise ApiProblem(
        503, "accounts unavailable",
        "This API runs without its PostgreSQL database, so no bearer token can be checked; "
        "try again later (operators: check DATABASE_URL).",
        kind="accounts-unavailable",
    )


def _unauthorized(detail: str, *, invalid_token: bool) -> ApiProblem:
    challenge = f'Bearer realm="{REALM}"' + (', error="invalid_token"' if invalid_token else "")
    return ApiProblem(401, "unauthorized", detail, kind="unauthorized", headers={"WWW-Authenticate": challenge})


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """The caller, from `Authorization: Bearer <token>`; 401 problem when missing, unknown or revoked."""
    if credentials is None or not credentials.credentials.strip():
        raise _unauthorized(
            "This needs an account: send `Authorization: Bearer <token>` with the token you were given "
            "(an officer creates one with `jfc accounts create`).",
            invalid_token=False,
        )
    token = credentials.credentials.strip()
    key = token_hash(token)
    cache = principal_cache(request.app)
    principal = cache.get(key)
    if principal is None:
        principal = await authenticate(_pool(request), token)
        if principal is None:
            raise _unauthorized(
                "The bearer token is unknown or has been revoked; ask for a new one.", invalid_token=True
            )
        cache.put(key, principal)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role | str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency giving the caller when their role is one of `roles`; 403 problem otherwise."""
    if not roles:
        raise ValueError("require_roles needs at least one role")
    allowed = tuple(dict.fromkeys(Role(role) for role in roles))
    names = " or ".join(str(role) for role in allowed)

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise ApiProblem(
                403, "forbidden",
                f"This is for {names} accounts; yours ({principal.account_id}) is {principal.role}.",
                kind="forbidden",
            )
        return principal

    dependency.__name__ = f"require_{'_or_'.join(str(role) for role in allowed)}"
    return dependency


def auth_responses(*, forbidden: bool = True) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a route behind the bearer token (merge with api.problems.responses)."""
    result: dict[int | str, dict[str, Any]] = {
        401: {"model": ProblemDocument, "description": "Bearer token missing, unknown or revoked",
              "headers": {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer challenge"}}},
    }
    if forbidden:
        result[403] = {"model": ProblemDocument, "description": "The account's role may not do this"}
    return result
