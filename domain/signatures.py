"""HMAC signatures of webhooks: `X-JFC-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-JFC-Signature"
TOLERANCE_SECONDS = 300
MAX_TIMESTAMP_DIGITS = 12  # unix seconds for the next 30,000 years; longer is garbage, not a time


class SignatureError(ValueError):
    """The signature is missing, malformed, forged or stale; the message says which."""


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    """The header value for `body` signed at `timestamp` (unix seconds)."""
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: bytes, header: str | None, body: bytes, now: float, tolerance: int = TOLERANCE_SECONDS) -> int:
    """Check `header` against `body`; returns the signed timestamp or raises SignatureError."""
    if not header:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    if not header.isascii():
        raise SignatureError(f"malformed {SIGNATURE_HEADER} header: only ASCII t=<unix>,v1=<hex> is accepted")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            raise SignatureError(f"malformed {SIGNATURE_HEADER} header: expected t=<unix>,v1=<hex>")
        parts.setdefault(key, []).append(value)
    raw_timestamp = parts.get("t", [""])[0].strip()
    if not raw_timestamp.isdigit() or len(raw_timestamp) > MAX_TIMESTAMP_DIGITS:
        raise SignatureError(f"{SIGNATURE_HEADER} has no valid t=<unix seconds>")
    timestamp = int(raw_timestamp)
    candidates = parts.get("v1", [])
    if not candidates:
        raise SignatureError(f"{SIGNATURE_HEADER} has no v1 signature")
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected.encode(), c.strip().encode()) for c in candidates):
        raise SignatureError("signature does not match the body")
    if abs(now - timestamp) > tolerance:
        when = f"{int(now - timestamp)} s old" if now >= timestamp else f"{int(timestamp - now)} s in the future"
        raise SignatureError(f"signature timestamp is {when} (limit {tolerance} s either way); check the sender's clock")
    return timestamp
