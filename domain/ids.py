"""Identifiers: application ids from idempotency keys, permit numbers that point back to them."""

from __future__ import annotations

import base64
import hashlib
import re

APPLICATION_PREFIX = "PRM-"
INCENTIVE_PREFIX = "INC-"
_ID_RE = re.compile(r"^PRM-[A-Z2-7]{12}$")
_INCENTIVE_RE = re.compile(r"^INC-[A-Z2-7]{12}$")
_PERMIT_RE = re.compile(r"^JFC-(\d{4})-([A-Z2-7]{12})-([A-Z2-7])$")
_CERTIFICATE_RE = re.compile(r"^JFC-INC-(\d{4})-([A-Z2-7]{12})-([IF])([A-Z2-7])$")


def _stable_suffix(idempotency_key: str, scope: str, kind: str = "") -> str:
    digest = hashlib.sha256(f"{kind}{scope}\x00{idempotency_key}".encode()).digest()
    return base64.b32encode(digest).decode()[:12]


def application_id_for_key(idempotency_key: str, scope: str = "") -> str:
    """The application id a submission with this key (within `scope`, e.g. an organisation) gets; stable."""
    return APPLICATION_PREFIX + _stable_suffix(idempotency_key, scope)


def incentive_id_for_key(idempotency_key: str, scope: str = "") -> str:
    """The incentive id an application with this key (within `scope`) gets; stable, never a permit's."""
    return INCENTIVE_PREFIX + _stable_suffix(idempotency_key, scope, kind="incentive\x00")


def is_application_id(value: str) -> bool:
    return bool(_ID_RE.match(value))


def is_incentive_id(value: str) -> bool:
    return bool(_INCENTIVE_RE.match(value))


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


def certificate_number(incentive_id: str, kind: str, year: int) -> str:
    """`JFC-INC-<year>-<incentive suffix>-<I|F><check>`: an interim or final certificate, leading back to it."""
    if not is_incentive_id(incentive_id):
        raise ValueError(f"not an incentive id: {incentive_id!r}")
    letter = {"interim": "I", "final": "F"}[kind]
    body = f"JFC-INC-{year}-{incentive_id.removeprefix(INCENTIVE_PREFIX)}-{letter}"
    return f"{body}{_check_char(body)}"


def incentive_id_from_certificate_number(number: str) -> tuple[str, str] | None:
    """(incentive id, "interim" | "final") of a certificate number, or None when malformed or its check fails."""
    match = _CERTIFICATE_RE.match(number.strip().upper())
    if not match:
        return None
    body = f"JFC-INC-{match.group(1)}-{match.group(2)}-{match.group(3)}"
    if _check_char(body) != match.group(4):
        return None
    return INCENTIVE_PREFIX + match.group(2), {"I": "interim", "F": "final"}[match.group(3)]
