"""Identifiers: application ids from idempotency keys, permit numbers that point back to them."""

from __future__ import annotations

import base64
import hashlib
import re

APPLICATION_PREFIX = "PRM-"
_ID_RE = re.compile(r"^PRM-[A-Z2-7]{12}$")
_PERMIT_RE = re.compile(r"^JFC-(\d{4})-([A-Z2-7]{12})-([A-Z2-7])$")


def application_id_for_key(idempotency_key: str, scope: str = "") -> str:
    """The application id a submission with this key (within `scope`, e.g. an organisation) gets; stable."""
    digest = hashlib.sha256(f"{scope}\x00{idempotency_key}".encode()).digest()
    return APPLICATION_PREFIX + base64.b32encode(digest).decode()[:12]


def is_application_id(value: str) -> bool:
    return bool(_ID_RE.match(value))


def _check_char(body: str) -> str:
    return base64.b32encode(hashlib.sha256(body.encode()).digest()).decode()[0]


def permit_number(application_id: str, year: int) -> str:
    """`JFC-<year>-<application suffix>-<check>`: readable, verifiable, and leads back to the application."""
    if not is_application_id(application_id):
        raise ValueError(f"not an application id: {application_id!r}")
    body = f"JFC-{year}-{application_id.removeprefix(APPLICATION_PREFIX)}"
    return f"{body}-{_check_char(body)}"


def application_id_from_permit_number(number: str) -> str | None:
    """The application a permit number belongs to, or None when the number is malformed or its check fails."""
    match = _PERMIT_RE.match(number.strip().upper())
    if not match:
        return None
    body = f"JFC-{match.group(1)}-{match.group(2)}"
    if _check_char(body) != match.group(3):
        return None
    return APPLICATION_PREFIX + match.group(2)
