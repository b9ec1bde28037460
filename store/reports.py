"""Reports from the read model: SLA figures per agency, the breach list, and the searchable permit list."""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import asyncpg

from domain.calendar import is_business_day
from domain.jakarta import JAKARTA, jakarta_date
from schemas.catalog import AgencyCode
from schemas.reports import AgencySla, BreachRow, PermitPage, PermitSummary
from schemas.status import ClearanceStatus
from store.pool import acquire

MAX_PAGE = 200
FIRST_REPORT_DATE = date(2000, 1, 1)  # report windows lie within these dates (no calendar overflow)
LAST_REPORT_DATE = date(2100, 12, 31)
MAX_BREACHES = 1000
DEFAULT_BREACHES = 200

# ---- SLA figures per agency --------------------------------------------------------

# A window's figures: its whole months from sla_monthly ($3 <= month < $4), the days of its partial first
# month ($1 <= day < $2) and of its partial last month ($5 <= day <= $6) from sla_daily. An empty range
# (lower bound not below the upper) reads nothing.
_SLA_FIGURES = """
SELECT agency, turnaround,
       sum(requests)::bigint AS requests, sum(decided)::bigint AS decided, sum(met)::bigint AS met,
       sum(breached)::bigint AS breached, sum(open)::bigint AS open, sum(open_at_risk)::bigint AS open_at_risk,
       sum(deemed_approvals)::bigint AS deemed_approvals
FROM (
    SELECT agency, turnaround, requests, decided, met, breached, open, open_at_risk, deemed_approvals
    FROM sla_monthly WHERE month >= $3 AND month < $4
    UNION ALL
    SELECT agency, turnaround, requests, decided, met, breached, open, open_at_risk, deemed_approvals
    FROM sla_daily WHERE day >= $1 AND day < $2
    UNION ALL
    SELECT agency, turnaround, requests, decided, met, breached, open, open_at_risk, deemed_approvals
    FROM sla_daily WHERE day >= $5 AND day <= $6
) figures
GROUP BY agency, turnaround
"""

# Outage episodes clipped to [$1, $2), an open one lasting until $2 (never later than now);
# overlapping or touching episodes of one agency merged into islands before they are summed.
_OUTAGE_MINUTES = """
WITH clipped AS (
    SELECT agency,
           greatest(started_at, $1) AS s,
           least(coalesce(recovered_at, $2), $2) AS e
    FROM agency_outages
    WHERE started_at < $2 AND (recovered_at IS NULL OR recovered_at > $1)
), ordered AS (
    SELECT agency, s, e,
           max(e) OVER (PARTITION BY agency ORDER BY s, e ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
    FROM clipped
    WHERE e > s
), islands AS (
    SELECT agency, s, e,
           count(*) FILTER (WHERE reach IS NULL OR reach < s) OVER (PARTITION BY agency ORDER BY s, e) AS island
    FROM ordered
)
SELECT agency, sum(extract(epoch FROM span_end - span_start)) / 60 AS minutes, count(*) AS episodes
FROM (SELECT agency, island, min(s) AS span_start, max(e) AS span_end FROM islands GROUP BY agency, island) merged
GROUP BY agency
"""

_COUNTERS = ("requests", "decided", "met", "breached", "open", "open_at_risk", "deemed_approvals")


async def agency_sla(
    pool: asyncpg.Pool | asyncpg.Connection, start: date | None, end: date | None, now: datetime
) -> list[AgencySla]:
    """SLA figures per agency over the clearances requested (or accepted) on Jakarta dates `start`..`end`.

    Either bound may be None (open-ended). Every catalog agency is listed, in catalog order, then any
    other agency the data names. Outage minutes are clipped to the same window and to `now`.
    """
    _require_aware(now)
    if start is not None and end is not None and start > end:
        raise ValueError(f"the window starts ({start}) after it ends ({end})")
    counters: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(_COUNTERS, 0))
    histograms: dict[str, dict[int, int]] = defaultdict(dict)
    window_start = _jakarta_midnight(start) if start else datetime.min.replace(tzinfo=UTC)
    window_end = min(_jakarta_midnight(end + timedelta(days=1)), now) if end else now
    async with acquire(pool) as conn, conn.transaction(readonly=True):
        # Plan with the actual window: a week wants the day index, a year wants a plain scan.
        await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        rows = await conn.fetch(_SLA_FIGURES, *sla_ranges(start, end))
        outages = (
            await conn.fetch(_OUTAGE_MINUTES, window_start, window_end) if window_end > window_start else []
        )
    for row in rows:
        totals = counters[row["agency"]]
        for name in _COUNTERS:
            totals[name] += row[name]
        if row["turnaround"] >= 0 and row["decided"]:
            histograms[row["agency"]][row["turnaround"]] = row["decided"]
    minutes = {row["agency"]: float(row["minutes"]) for row in outages}
    episodes = {row["agency"]: int(row["episodes"]) for row in outages}
    known = [code.value for code in AgencyCode]
    others = sorted((set(counters) | set(minutes)) - set(known))
    return [
        AgencySla(
            agency=agency,
            **counters[agency],
            median_turnaround_business_days=percentile_cont(histograms[agency], 0.5),
            p90_turnaround_business_days=percentile_cont(histograms[agency], 0.9),
            outage_minutes=round(minutes.get(agency, 0.0), 3),
            outages=episodes.get(agency, 0),
        )
        for agency in known + others
    ]


def sla_ranges(start: date | None, end: date | None) -> tuple[date, date, date, date, date, date]:
    """The six bounds `_SLA_FIGURES` takes for the Jakarta dates `start`..`end` (None: open-ended).

    The days of a partial first month [head_from, head_until), the first days of the whole months
    [months_from, months_until), and the days of a partial last month [tail_from, tail_through]; a
    window inside one month reads only days. Empty ranges are (date.max, date.min).
    """
    lo = start or date.min
    hi = end or date.max
    first_whole = lo if lo.day == 1 else _next_month(lo)
    ends_a_month = hi == date.max or (hi + timedelta(days=1)).day == 1
    after_last_whole = _next_month(hi) if ends_a_month else hi.replace(day=1)  # date.max: every month
    if first_whole >= after_last_whole:  # no whole month inside the window
        return date.max, date.min, date.max, date.min, lo, hi
    tail = (date.max, date.min) if ends_a_month else (after_last_whole, hi)
    return lo, first_whole, first_whole, after_last_whole, *tail


def _next_month(day: date) -> date:
    """The first day of the month after `day`'s; date.max when there is none."""
    if day.year == date.max.year and day.month == 12:
        return date.max
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def percentile_cont(histogram: Mapping[int, int], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont over the values of `histogram` (value → how many times it occurs)."""
    values = sorted((v, n) for v, n in histogram.items() if n > 0)
    total = sum(n for _, n in values)
    if not total:
        return None
    position = fraction * (total - 1)
    lower = math.floor(position)

    def nth(k: int) -> int:  # the k-th value (0-based) in sorted order
        seen = 0
        for value, count in values:
            seen += count
            if k < seen:
                return value
        return values[-1][0]

    low = nth(lower)
    if position == lower:
        return float(low)
    return low + (position - lower) * (nth(lower + 1) - low)


# ---- breaches ------------------------------------------------------------------------

# Undecided and not withdrawn, as the partial index clearances_open_breaches_due (migration 0003_search.sql) states it.
OPEN_CLEARANCE = "c.decided_at IS NULL AND c.status <> 'withdrawn'"

_BREACHES = """
SELECT c.application_id, a.production_title, c.agency, c.revision, c.status, c.due_at, c.breached_at,
       c.decided_at
FROM clearances c
JOIN applications a ON a.id = c.application_id
WHERE c.breached_at IS NOT NULL {open_only}
ORDER BY c.due_at, c.application_id, c.agency, c.revision
LIMIT $1
"""


async def breaches(
    pool: asyncpg.Pool | asyncpg.Connection, now: datetime, *, open_only: bool = False, limit: int = DEFAULT_BREACHES
) -> list[BreachRow]:
    """Clearances past their due time, open ones and those decided late, oldest due first (at most `limit`).

    A withdrawn clearance is not open, decided or not: its breach stays in the list as a past one.
    """
    _require_aware(now)
    if not 1 <= limit <= MAX_BREACHES:
        raise ValueError(f"limit must be between 1 and {MAX_BREACHES}, got {limit}")
    sql = _BREACHES.format(open_only=f"AND {OPEN_CLEARANCE}" if open_only else "")
    async with acquire(pool) as conn:
        rows = await conn.fetch(sql, limit)
    result = []
    for row in rows:
        due = row["due_at"] or row["breached_at"]
        until = row["decided_at"] or now
        result.append(
            BreachRow(
                **dict(row),
                open=row["decided_at"] is None and row["status"] != ClearanceStatus.withdrawn,
                hours_overdue=round(max((until - due).total_seconds(), 0.0) / 3600, 2),
                business_days_overdue=business_days_after(jakarta_date(due), jakarta_date(until)),
            )
        )
    return result


def business_days_after(first: date, last: date) -> int:
    """How many business days d have first < d <= last (0 when last <= first)."""
    if last <= first:
        return 0
    return _business_days_through(last) - _business_days_through(first)


def _business_days_through(day: date) -> int:
    """Business days from 1 January of `day`'s year to `day` inclusive, plus those of every earlier year since 2000."""
    starts = _cumulative_year(day.year)
    return _business_days_before_year(day.year) + starts[day.timetuple().tm_yday - 1]


@lru_cache(maxsize=None)
def _cumulative_year(year: int) -> tuple[int, ...]:
    count, running, day = 0, [], date(year, 1, 1)
    while day.year == year:
        count += is_business_day(day)
        running.append(count)
        day += timedelta(days=1)
    return tuple(running)


@lru_cache(maxsize=None)
def _business_days_before_year(year: int) -> int:
    if year <= 2000:
        return -sum(_cumulative_year(y)[-1] for y in range(year, 2000))
    return _business_days_before_year(year - 1) + _cumulative_year(year - 1)[-1]


# ---- the permit list ---------------------------------------------------------------------

_PERMIT_COLUMNS = (
    "id, status, production_title, applicant_company, submitted_at, permit_number, next_deadline, agencies"
)
# For one agency's clerk: the due time of its own clearance (its latest revision, while open and not waiting on the
# applicant), and only while the application has deadlines at all. {agency} is the agency's parameter.
_OWN_NEXT_DEADLINE = """CASE WHEN next_deadline IS NULL THEN NULL ELSE (
    SELECT CASE WHEN c.decided_at IS NULL AND c.status NOT IN ('withdrawn', 'information_required') THEN c.due_at END
    FROM clearances c WHERE c.application_id = applications.id AND c.agency = {agency}
    ORDER BY c.revision DESC LIMIT 1
) END AS next_deadline"""


async def list_permits(
    pool: asyncpg.Pool | asyncpg.Connection,
    status: str | None = None,
    agency: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
    *,
    organisation_id: str | None = None,
    agency_scope: str | None = None,
) -> PermitPage:
    """Applications newest first (submitted_at, then id, descending), filtered and searched, one page at a time.

    `q` matches a case-insensitive substring of the applicant company, production title, location
    names or permit number. `cursor` is a page's `next_cursor`; a malformed one raises ValueError.
    `organisation_id` and `agency_scope` bound what the caller may see: the applications one organisation
    owns, the applications routed to one agency. They apply together with every other filter; with
    `agency_scope`, `agency` naming another agency matches nothing, and `next_deadline` is the scope agency's own.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
    conditions: list[str] = []
    args: list[object] = []

    def arg(value: object) -> str:
        args.append(value)
        return f"${len(args)}"

    if any("\x00" in value for value in (organisation_id, agency_scope, status, agency, q) if value):
        # PostgreSQL text never holds NUL: nothing can match (and sending it would be an encoding error).
        if cursor:
            decode_cursor(cursor)
        return PermitPage(items=[], next_cursor=None)
    if agency_scope is not None and agency and agency != agency_scope:
        if cursor:
            decode_cursor(cursor)
        return PermitPage(items=[], next_cursor=None)  # another agency's part is never listed for this one
    columns = _PERMIT_COLUMNS
    if organisation_id is not None:
        conditions.append(f"organisation_id = {arg(organisation_id)}")
    if agency_scope is not None:
        scope = arg(agency_scope)
        conditions.append(f"agencies @> ARRAY[{scope}::text]")
        columns = _PERMIT_COLUMNS.replace("next_deadline", _OWN_NEXT_DEADLINE.format(agency=f"{scope}::text"))
    if status:
        conditions.append(f"status = {arg(status)}")
    if agency:
        conditions.append(f"agencies @> ARRAY[{arg(agency)}::text]")
    text = (q or "").strip()
    if text:
        conditions.append(f"search_text LIKE '%' || lower({arg(_like_escape(text))}::text) || '%'")
    if cursor:
        after_time, after_id = decode_cursor(cursor)
        conditions.append(f"(submitted_at, id) < ({arg(after_time)}::timestamptz, {arg(after_id)}::text)")
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    sql = (
        f"SELECT {columns} FROM applications {where} "
        f"ORDER BY submitted_at DESC, id DESC LIMIT {arg(limit + 1)}"
    )
    async with acquire(pool) as conn:
        async with conn.transaction(readonly=True):
            # Plan with the actual values: a rare search term and a common one want different plans.
            await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
            rows = await conn.fetch(sql, *args)
    items = [PermitSummary.model_validate(dict(row)) for row in rows[:limit]]
    next_cursor = encode_cursor(items[-1].submitted_at, items[-1].id) if len(rows) > limit else None
    return PermitPage(items=items, next_cursor=next_cursor)


def encode_cursor(submitted_at: datetime, application_id: str) -> str:
    """The opaque, URL-safe cursor after the application (`submitted_at`, `application_id`)."""
    raw = json.dumps([submitted_at.isoformat(), application_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The key a cursor of `encode_cursor` holds; ValueError saying what to do when it is not one."""
    problem = "the cursor is not one this API handed out; use a page's next_cursor as is, or start without one"
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
        if not (isinstance(key, list) and len(key) == 2 and all(isinstance(part, str) for part in key)):
            raise ValueError(problem)
        moment = datetime.fromisoformat(key[0])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError(problem) from None
    if moment.tzinfo is None or not key[1]:
        raise ValueError(problem)
    return moment, key[1]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# ---- helpers -------------------------------------------------------------------------------


def _jakarta_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=JAKARTA)


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a timezone-aware datetime is required, got naive {moment.isoformat()}")

