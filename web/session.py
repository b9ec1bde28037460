"""Who is signed in to the pages, and the CSRF token every form carries.

The session cookie holds the account's token (`HttpOnly`, `SameSite=Lax`, `Secure` unless
`JFC_COOKIE_SECURE=false`), resolved like a bearer token (api.auth's cache, store.accounts.authenticate), so
a page acts as the same Principal the JSON API would. A second cookie holds a random CSRF secret; a form's
token is an HMAC of the session under it, so it is per session and a form posted without it (or from another
site) is refused with 403 before anything is done.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from fastapi import Request, Response

from api.access import read_model_pool
from api.auth import principal_cache
from store.accounts import Principal, authenticate, token_hash
from web.i18n import language

SESSION_COOKIE = "jfc_session"
CSRF_COOKIE = "jfc_csrf"
LANG_COOKIE = "jfc_lang"
CSRF_FIELD = "csrf_token"
SESSION_SECONDS = 8 * 3600  # a working day
COOKIE_PATH = "/"


class SignInRequired(Exception):
    """The page needs a signed-in account; the route answers with a redirect to the sign-in page."""


class CsrfRefused(Exception):
    """A form came without its CSRF token, or with a wrong one."""


def cookie_options(request: Request, max_age: int | None = SESSION_SECONDS) -> dict[str, Any]:
    secure = request.app.state.jfc.settings.cookie_secure
    return {"httponly": True, "secure": secure, "samesite": "lax", "path": COOKIE_PATH, "max_age": max_age}


def session_token(request: Request) -> str | None:
    token = (request.cookies.get(SESSION_COOKIE) or "").strip()
    return token or None


async def session_principal(request: Request) -> Principal | None:
    """The signed-in account, or None (no cookie, an unknown or revoked token, or no database)."""
    token = session_token(request)
    if token is None:
        return None
    return await principal_for(request, token)


async def principal_for(request: Request, token: str) -> Principal | None:
    """The account `token` stands for, through the same cache the bearer tokens use."""
    key = token_hash(token)
    cache = principal_cache(request.app)
    principal = cache.get(key)
    if principal is None:
        pool = read_model_pool(request)
        if pool is None:
            return None
        principal = await authenticate(pool, token)
        if principal is None:
            return None
        cache.put(key, principal)
    return principal


def csrf_secret(request: Request) -> str | None:
    return request.cookies.get(CSRF_COOKIE) or None


def csrf_token(secret: str | None, session: str | None) -> str:
    """The token forms carry: the session (or "anonymous" before sign-in) signed with the CSRF secret."""
    if not secret:
        return ""
    return hmac.new(secret.encode(), (session or "anonymous").encode(), hashlib.sha256).hexdigest()


def check_csrf(request: Request, form: dict[str, str]) -> None:
    """CsrfRefused unless the form's token matches this browser's secret and session."""
    expected = csrf_token(csrf_secret(request), session_token(request))
    sent = form.get(CSRF_FIELD, "")
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise CsrfRefused


def ensure_csrf_secret(request: Request, response: Response) -> str:
    """This browser's CSRF secret, set on `response` when it has none yet."""
    secret = csrf_secret(request)
    if secret is None:
        secret = new_csrf_secret(request, response)
    return secret


def new_csrf_secret(request: Request, response: Response) -> str:
    secret = secrets.token_urlsafe(32)
    response.set_cookie(CSRF_COOKIE, secret, **cookie_options(request, max_age=None))
    return secret


def sign_in(request: Request, response: Response, token: str) -> str:
    """Set the session cookie and a fresh CSRF secret (a new session gets new form tokens); returns the secret."""
    response.set_cookie(SESSION_COOKIE, token, **cookie_options(request))
    return new_csrf_secret(request, response)


def sign_out(request: Request, response: Response) -> None:
    options = cookie_options(request, max_age=None)
    options.pop("max_age")
    response.delete_cookie(SESSION_COOKIE, **options)
    response.delete_cookie(CSRF_COOKIE, **options)


def page_language(request: Request) -> str:
    return language(request.cookies.get(LANG_COOKIE))
