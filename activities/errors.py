"""Error types activities raise, named for workflows' retry policies, and redaction of personal data in messages."""

from __future__ import annotations

import re
from collections.abc import Iterable

from temporalio.exceptions import ApplicationError

AGENCY_UNAVAILABLE = "AgencyUnavailable"  # an outage: retried, Retry-After honoured
AGENCY_REFUSED = "AgencyRefused"  # a 4xx: the request's fault, not retried
AGENCY_PROTOCOL_ERROR = "AgencyProtocolError"  # a 2xx we cannot read: not retried
INVALID_INPUT = "InvalidActivityInput"  # input a pure computation rejects: not retried

NON_RETRYABLE = (AGENCY_REFUSED, AGENCY_PROTOCOL_ERROR, INVALID_INPUT)

_EMAIL = re.compile(r"[^@\s\"'<>,;:]+@[^@\s\"'<>,;:]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?:\+\d|\b0)[\d ()\-]{6,}\d")
REDACTED = "[redacted]"


def redact(text: str, known: Iterable[str] = ()) -> str:
    """`text` without e-mail addresses, phone numbers and the `known` sensitive values (e.g. passport numbers)."""
    for value in sorted({v for v in known if v and len(v) >= 3}, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    text = _EMAIL.sub(REDACTED, text)
    return _PHONE.sub(lambda m: REDACTED if sum(c.isdigit() for c in m.group()) >= 8 else m.group(), text)


def invalid_input(exc: ValueError) -> ApplicationError:
    """A non-retryable failure for input a deterministic function rejected (a retry would fail the same way)."""
    return ApplicationError(str(exc), type=INVALID_INPUT, non_retryable=True)
