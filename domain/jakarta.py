"""Asia/Jakarta time: the one home of the commission's time zone, safe to use inside workflows.

Jakarta has kept UTC+7 (WIB) without daylight saving since 1964, so a fixed offset is exact for
every date the engine sees and keeps the workflow sandbox away from time zone database files.
"""

from __future__ import annotations

import datetime as dt

JAKARTA = dt.timezone(dt.timedelta(hours=7), "WIB")


def jakarta_date(moment: dt.datetime) -> dt.date:
    """The calendar date of `moment` in Asia/Jakarta (`moment` must be timezone-aware)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a timezone-aware datetime is required, got naive {moment.isoformat()}")
    return moment.astimezone(JAKARTA).date()
