"""Personal data (emails, phone numbers, passport numbers) kept out of logs and error messages."""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[redacted]"
_EMAIL = re.compile(r"[^@\s\"'<>,;:]+@[^@\s\"'<>,;:]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?:\+\d|\b0)[\d ()\-]{6,}\d")  # +62 812 … or 0812-…; never dates or clock times


def redact(text: str, known: Iterable[str] = ()) -> str:
    """`text` without e-mail addresses, phone numbers and the `known` sensitive values (e.g. passport numbers)."""
    for value in sorted({v for v in known if v and len(v) >= 3}, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    text = _EMAIL.sub(REDACTED, text)
    return _PHONE.sub(lambda m: REDACTED if sum(c.isdigit() for c in m.group()) >= 8 else m.group(), text)
