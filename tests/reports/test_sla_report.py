"""SLA figures per agency and the breach list, on hand-made rows with figures checked by hand."""

from __future__ import annotations

import datetime as dt
import random

import asyncpg
import pytest

from domain.calendar import business_days_between
from schemas.catalog import AgencyCode
from store.reports import agency_sla, breaches, business_days_after, percentile_cont, sla_ranges
from tests.reports.report_samples import add_application, add_clearance, add_outage, assert_sla_figures_match_a_recount, jkt

NOW = jkt(2027, 1, 5, 12)  # a Tuesday noon in Jakarta
OCTOBER = (dt.date(2026, 10, 1), dt.date(2026, 10, 15))


async def seed(pool: asyncpg.Pool) -> None:
    for app_id, title in [("A1", "Senja di Kota"), ("A2", "Night Market"), ("A3", "Banjir"), ("A4", "Kota Tua"),
                          ("A5", "Hujan"), ("A6", "Jalan Sudirman"), ("A7", "Monas Malam"), ("B0", "Before"),
                          ("B1", "Boundary"), ("B2", "After"), ("W1", "Waiting"), ("D1", "Desember")]:
        await add_application(pool, app_id, submitted_at=jkt(2026, 9, 1), title=title)
    parks = [
        dict(app="A1", requested_at=jkt(2026, 10, 1, 9), decided_at=jkt(2026, 10, 5, 10), sla="met",
             outcome="approved", status="approved", turnaround=2),
        dict(app="A2", requested_at=jkt(2026, 10, 2, 9), decided_at=jkt(2026, 10, 8, 11), sla="met",
             outcome="approved_with_conditions", status="approved_with_conditions", turnaround=4),
        dict(app="A3", requested_at=jkt(2026, 10, 5, 9), due_at=jkt(2026, 10, 12, 16),
             breached_at=jkt(2026, 10, 12, 16), decided_at=jkt(2026, 10, 14, 10), sla="breached",
             outcome="rejected", status="rejected", turnaround=7),
        dict(app="A4", requested_at=jkt(2026, 10, 6, 9), due_at=jkt(2026, 10, 13, 16),
             breached_at=jkt(2026, 10, 13, 16), decided_at=jkt(2026, 10, 20, 16), sla="breached",
             outcome="deemed_approved", status="deemed_approved", turnaround=10),
        dict(app="A5", requested_at=jkt(2026, 10, 9, 9), sla="at_risk"),
        dict(app="A6", requested_at=jkt(2026, 10, 12, 9), sla="on_track"),
        dict(app="A7", requested_at=jkt(2026, 10, 12, 10), due_at=jkt(2026, 10, 19, 16),
             breached_at=jkt(2026, 10, 19, 16), sla="breached"),
        # the Jakarta date decides, not UTC: 23:30 on 30 September is out, 23:30 on 15 October is in
        dict(app="B0", requested_at=jkt(2026, 9, 30, 23, 30), decided_at=jkt(2026, 10, 2, 9), sla="met",
             outcome="approved", status="approved", turnaround=1),
        dict(app="B1", requested_at=jkt(2026, 10, 15, 23, 30), sla="on_track"),
        dict(app="B2", requested_at=jkt(2026, 10, 16, 0, 30), sla="on_track"),
    ]
    for row in parks:
        await add_clearance(pool, row.pop("app"), "parks", **row)
    await add_clearance(pool, "A1", "police", requested_at=jkt(2026, 10, 1, 10), decided_at=jkt(2026, 10, 6, 9),
                        sla="met", outcome="approved", status="approved", turnaround=3)
    await add_clearance(pool, "W1", "police", requested_at=None, status="waiting_on_dependency")
    await add_clearance(pool, "D1", "police", requested_at=jkt(2026, 12, 14, 9), due_at=jkt(2026, 12, 23, 16),
                        breached_at=jkt(2026, 12, 23, 16), decided_at=jkt(2026, 12, 28, 10), sla="breached",
                        outcome="approved", status="approved", turnaround=9)
    # parks: two overlapping episodes across the window's start, a nested and a touching one, an open one
    await add_outage(pool, "A1", "parks", 0, jkt(2026, 9, 30, 23), jkt(2026, 10, 1, 1))
    await add_outage(pool, "A2", "parks", 0, jkt(2026, 10, 1, 0, 30), jkt(2026, 10, 1, 2))
    await add_outage(pool, "A3", "parks", 0, jkt(2026, 10, 7, 10), jkt(2026, 10, 7, 10, 30))
    await add_outage(pool, "A4", "parks", 0, jkt(2026, 10, 7, 10, 5), jkt(2026, 10, 7, 10, 20))
    await add_outage(pool, "A5", "parks", 0, jkt(2026, 10, 7, 10, 30), jkt(2026, 10, 7, 10, 45))
    await add_outage(pool, "A6", "parks", 0, jkt(2026, 10, 15, 23), None)
    # police: open since two hours before now
    await add_outage(pool, "W1", "police", 0, jkt(2027, 1, 5, 10), None)


def by_agency(rows):
    return {row.agency: row for row in rows}


async def test_figures_per_agency_over_a_window(pool: asyncpg.Pool) -> None:
    await seed(pool)

    rows = await agency_sla(pool, *OCTOBER, NOW)

    assert [row.agency for row in rows] == [code.value for code in AgencyCode]
    parks = by_agency(rows)["parks"]
    assert parks.model_dump() == {
        "agency": "parks", "requests": 8, "decided": 4, "met": 2, "breached": 3, "open": 4, "open_at_risk": 1,
        "median_turnaround_business_days": 5.5,  # 2, 4, 7, 10
        "p90_turnaround_business_days": pytest.approx(9.1),  # 7 + 0.7 × (10 - 7)
        "deemed_approvals": 1,
        # 00:00-02:00 on 1 October (two episodes merged, clipped at the window's start) = 120,
        # 10:00-10:45 on 7 October (nested and touching episodes) = 45, the open one until 16 Oct 00:00 = 60
        "outage_minutes": 225.0,
        "outages": 3,
    }
    police = by_agency(rows)["police"]
    assert (police.requests, police.decided, police.met, police.breached, police.open) == (1, 1, 1, 0, 0)
    assert (police.median_turnaround_business_days, police.p90_turnaround_business_days) == (3.0, 3.0)
    assert (police.outage_minutes, police.outages) == (0.0, 0)  # its outage began after the window
    fire = by_agency(rows)["fire"]
    assert (fire.requests, fire.median_turnaround_business_days, fire.outage_minutes) == (0, None, 0.0)


async def test_figures_without_a_window_count_everything_and_open_outages_until_now(pool: asyncpg.Pool) -> None:
    await seed(pool)

    rows = by_agency(await agency_sla(pool, None, None, NOW))

    parks = rows["parks"]
    assert (parks.requests, parks.decided, parks.open) == (10, 5, 5)
    open_episode = (NOW - jkt(2026, 10, 15, 23)).total_seconds() / 60
    assert parks.outage_minutes == pytest.approx(180 + 45 + open_episode)
    police = rows["police"]
    assert (police.requests, police.decided, police.breached, police.met) == (2, 2, 1, 1)  # W1 never requested
    assert police.median_turnaround_business_days == 6.0
    assert police.p90_turnaround_business_days == pytest.approx(8.4)
    assert police.outage_minutes == 120.0  # open, counted up to now


async def test_one_sided_windows(pool: asyncpg.Pool) -> None:
    await seed(pool)

    since = by_agency(await agency_sla(pool, dt.date(2026, 10, 10), None, NOW))
    until = by_agency(await agency_sla(pool, None, dt.date(2026, 10, 1), NOW))

    assert since["parks"].requests == 4  # A6, A7, B1, B2
    assert until["parks"].requests == 2  # B0, A1
    assert until["parks"].outage_minutes == 180.0  # 23:00 30 Sep to 02:00 1 Oct, merged


async def test_a_backwards_window_is_refused(pool: asyncpg.Pool) -> None:
    with pytest.raises(ValueError, match="after it ends"):
        await agency_sla(pool, dt.date(2026, 10, 2), dt.date(2026, 10, 1), NOW)


async def test_breaches_oldest_first_open_and_past(pool: asyncpg.Pool) -> None:
    await seed(pool)

    rows = await breaches(pool, NOW)

    assert [(r.application_id, r.agency, r.open) for r in rows] == [
        ("A3", "parks", False), ("A4", "parks", False), ("A7", "parks", True), ("D1", "police", False)]
    a3, a4, a7, d1 = rows
    assert (a3.production_title, a3.status, a3.hours_overdue, a3.business_days_overdue) == ("Banjir", "rejected", 42.0, 2)
    assert (a4.hours_overdue, a4.business_days_overdue) == (168.0, 5)
    assert a7.decided_at is None
    assert a7.hours_overdue == round((NOW - jkt(2026, 10, 19, 16)).total_seconds() / 3600, 2)
    assert a7.business_days_overdue == business_days_between(jkt(2026, 10, 19, 16), NOW)
    assert (d1.hours_overdue, d1.business_days_overdue) == (114.0, 1)  # 24 and 25 December are holidays
    assert [r.application_id for r in await breaches(pool, NOW, open_only=True)] == ["A7"]
    assert [r.application_id for r in await breaches(pool, NOW, limit=2)] == ["A3", "A4"]


async def test_a_withdrawn_request_is_neither_open_nor_decided(pool: asyncpg.Pool) -> None:
    """Withdrawn undecided (the applicant cancelled, or the application closed elsewhere): no longer open,
    not at risk, not an open breach; still a request, and a breach it once had stays in the full list."""
    await seed(pool)
    await add_application(pool, "X1", submitted_at=jkt(2026, 9, 1), title="Batal")
    await add_clearance(pool, "X1", "parks", requested_at=jkt(2026, 10, 7, 9), sla="at_risk",
                        status="withdrawn", outcome="withdrawn")
    await add_clearance(pool, "X1", "police", requested_at=jkt(2026, 10, 7, 9), due_at=jkt(2026, 10, 9, 16),
                        breached_at=jkt(2026, 10, 9, 16), sla="breached", status="withdrawn", outcome="withdrawn")
    # A5 (at risk) and A7 (an open breach) are withdrawn later, by an update
    await pool.execute("UPDATE clearances SET status = 'withdrawn', outcome = 'withdrawn' "
                       "WHERE application_id IN ('A5', 'A7') AND agency = 'parks'")

    rows = by_agency(await agency_sla(pool, *OCTOBER, NOW))

    parks = rows["parks"]  # 8 requests of the seed and X1; open were A5, A6, A7, B1
    assert (parks.requests, parks.decided, parks.open, parks.open_at_risk, parks.breached) == (9, 4, 2, 0, 3)
    police = rows["police"]
    assert (police.requests, police.decided, police.open, police.breached) == (2, 1, 0, 1)
    await assert_matches_brute_force(pool, *OCTOBER)
    await assert_sla_figures_match_a_recount(pool)

    listed = await breaches(pool, NOW)
    assert [(r.application_id, r.agency, r.open) for r in listed] == [
        ("X1", "police", False), ("A3", "parks", False), ("A4", "parks", False), ("A7", "parks", False),
        ("D1", "police", False)]
    assert await breaches(pool, NOW, open_only=True) == []


def test_business_days_after_agrees_with_the_calendar() -> None:
    rng = random.Random(7)
    for _ in range(300):
        start = jkt(2024, 1, 1) + dt.timedelta(hours=rng.randrange(0, 24 * 365 * 3))
        end = start + dt.timedelta(hours=rng.randrange(0, 24 * 400))
        assert business_days_after(start.date(), end.date()) == business_days_between(start, end)


def test_percentile_cont_matches_postgresql_definition() -> None:
    assert percentile_cont({}, 0.5) is None
    assert percentile_cont({4: 1}, 0.9) == 4.0
    assert percentile_cont({1: 1, 2: 1, 3: 1, 4: 1}, 0.5) == 2.5
    assert percentile_cont({0: 3, 10: 1}, 0.9) == pytest.approx(7.0)  # 0 0 0 10: 0 + 0.7 × 10


_BRUTE_FORCE = """
SELECT agency, count(*) AS requests,
       count(*) FILTER (WHERE decided_at IS NOT NULL) AS decided,
       count(*) FILTER (WHERE sla = 'met') AS met,
       count(*) FILTER (WHERE breached_at IS NOT NULL) AS breached,
       count(*) FILTER (WHERE decided_at IS NULL AND status <> 'withdrawn') AS open,
       count(*) FILTER (WHERE decided_at IS NULL AND status <> 'withdrawn' AND sla = 'at_risk') AS open_at_risk,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY turnaround_business_days)
           FILTER (WHERE decided_at IS NOT NULL) AS median,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY turnaround_business_days)
           FILTER (WHERE decided_at IS NOT NULL) AS p90,
       count(*) FILTER (WHERE outcome = 'deemed_approved') AS deemed
FROM clearances
WHERE coalesce(requested_at, accepted_at) >= $1 AND coalesce(requested_at, accepted_at) < $2
GROUP BY agency
"""


async def assert_matches_brute_force(pool: asyncpg.Pool, start: dt.date | None, end: dt.date | None) -> None:
    lo = jkt(start.year, start.month, start.day) if start else jkt(1900, 1, 1)
    hi = jkt(end.year, end.month, end.day) + dt.timedelta(days=1) if end else jkt(2200, 1, 1)
    expected = {r["agency"]: r for r in await pool.fetch(_BRUTE_FORCE, lo, hi)}
    for row in await agency_sla(pool, start, end, NOW):
        want = expected.get(row.agency)
        if want is None:
            assert row.requests == 0, row
            continue
        assert (row.requests, row.decided, row.met, row.breached, row.open, row.open_at_risk, row.deemed_approvals) == (
            want["requests"], want["decided"], want["met"], want["breached"], want["open"], want["open_at_risk"],
            want["deemed"]), row.agency
        assert row.median_turnaround_business_days == pytest.approx(want["median"]), row.agency
        assert row.p90_turnaround_business_days == pytest.approx(want["p90"]), row.agency


async def test_the_sla_figures_follow_every_kind_of_write(pool: asyncpg.Pool) -> None:
    """Inserts, COPY, updates, upserts and deletes all keep sla_daily equal to counting the clearances."""
    rng = random.Random(3)
    agencies = [code.value for code in AgencyCode]
    apps = [f"R{i}" for i in range(60)]
    for app_id in apps:
        await add_application(pool, app_id, submitted_at=jkt(2026, 9, 1))

    def random_row(app_id: str, agency: str) -> tuple:
        requested = jkt(2026, 10, 1) + dt.timedelta(minutes=rng.randrange(0, 60 * 24 * 30))
        decided = rng.random() < 0.6
        sla = rng.choice(["met", "breached", "at_risk", "on_track", None])
        return (app_id, agency, 1, "approved" if decided else "submitted", requested, requested,
                requested + dt.timedelta(days=3) if decided else None,
                requested + dt.timedelta(days=5) if sla == "breached" else None, sla,
                rng.choice(["approved", "deemed_approved", "rejected"]) if decided else None,
                rng.randrange(0, 15) if decided else None)

    columns = ["application_id", "agency", "revision", "status", "requested_at", "accepted_at", "decided_at",
               "breached_at", "sla", "outcome", "turnaround_business_days"]
    keys = [(a, g) for a in apps for g in rng.sample(agencies, 3)]
    async with pool.acquire() as conn:
        await conn.copy_records_to_table("clearances", records=[random_row(a, g) for a, g in keys[:100]],
                                         columns=columns)
        for a, g in keys[100:]:
            await conn.execute(f"INSERT INTO clearances ({', '.join(columns)}) VALUES "
                               f"({', '.join(f'${i + 1}' for i in range(len(columns)))})", *random_row(a, g))
    await assert_matches_brute_force(pool, dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    await assert_sla_figures_match_a_recount(pool)

    # decisions arrive: updates, one statement touching many rows, upserts, deletions
    await pool.execute("""UPDATE clearances SET decided_at = requested_at + interval '2 days', status = 'approved',
                          outcome = 'approved', sla = 'met', turnaround_business_days = 2
                          WHERE decided_at IS NULL AND agency = 'parks'""")
    await pool.execute("UPDATE clearances SET requested_at = requested_at + interval '9 days' WHERE agency = 'fire'")
    await pool.execute("UPDATE clearances SET status = 'withdrawn', outcome = 'withdrawn' "
                       "WHERE decided_at IS NULL AND agency IN ('district', 'heritage')")
    for a, g in keys[:20]:
        row = random_row(a, g)
        await pool.execute(f"""INSERT INTO clearances ({', '.join(columns)}) VALUES
                               ({', '.join(f'${i + 1}' for i in range(len(columns)))})
                               ON CONFLICT (application_id, agency, revision) DO UPDATE SET
                               decided_at = excluded.decided_at, sla = excluded.sla, outcome = excluded.outcome,
                               breached_at = excluded.breached_at,
                               turnaround_business_days = excluded.turnaround_business_days""", *row)
    await pool.execute("DELETE FROM clearances WHERE agency = 'police'")
    await assert_matches_brute_force(pool, dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    await assert_matches_brute_force(pool, dt.date(2026, 10, 5), dt.date(2026, 10, 12))
    await assert_sla_figures_match_a_recount(pool)

    await pool.execute("TRUNCATE clearances")
    assert sum(row.requests for row in await agency_sla(pool, None, None, NOW)) == 0
    assert await pool.fetchval("SELECT count(*) FROM sla_monthly") == 0


async def test_windows_of_whole_and_partial_months_match_counting(pool: asyncpg.Pool) -> None:
    """Months read from sla_monthly, partial months from sla_daily: every kind of window agrees with counting."""
    rng = random.Random(11)
    agencies = [code.value for code in AgencyCode]
    apps = [f"M{i}" for i in range(80)]
    for app_id in apps:
        await add_application(pool, app_id, submitted_at=jkt(2026, 6, 1))
    # clearances from July 2026 to February 2027, many of them in the hours around Jakarta midnight at a
    # month's turn (still the previous month in UTC)
    turns = [jkt(2026, m, 1) for m in range(8, 13)] + [jkt(2027, 1, 1), jkt(2027, 2, 1)]
    columns = ["application_id", "agency", "revision", "status", "requested_at", "accepted_at", "decided_at",
               "breached_at", "sla", "outcome", "turnaround_business_days"]
    rows = []
    for app_id in apps:
        for revision, agency in enumerate(rng.sample(agencies, 4), start=1):
            if rng.random() < 0.3:
                requested = rng.choice(turns) + dt.timedelta(minutes=rng.randrange(-120, 120))
            else:
                requested = jkt(2026, 7, 1) + dt.timedelta(minutes=rng.randrange(0, 60 * 24 * 240))
            decided = rng.random() < 0.7
            sla = rng.choice(["met", "breached", "at_risk", "on_track"])
            rows.append((app_id, agency, revision, "approved" if decided else "submitted", requested, requested,
                         requested + dt.timedelta(days=4) if decided else None,
                         requested + dt.timedelta(days=5) if sla == "breached" else None, sla,
                         rng.choice(["approved", "deemed_approved", "rejected"]) if decided else None,
                         rng.randrange(0, 20) if decided else None))
    async with pool.acquire() as conn:
        await conn.copy_records_to_table("clearances", records=rows, columns=columns)
    await pool.execute("UPDATE clearances SET requested_at = requested_at - interval '20 days' WHERE agency = 'parks'")
    await assert_sla_figures_match_a_recount(pool)

    d = dt.date
    windows = [
        (d(2026, 8, 1), d(2026, 10, 31)),    # whole months only
        (d(2026, 8, 17), d(2026, 11, 9)),    # partial first and last months around whole ones
        (d(2026, 8, 2), d(2026, 9, 30)),     # partial first month, then a whole one
        (d(2026, 9, 1), d(2026, 10, 30)),    # a whole month, then a partial one
        (d(2026, 9, 30), d(2026, 10, 1)),    # two days across a month's turn
        (d(2026, 10, 3), d(2026, 10, 28)),   # inside one month
        (d(2026, 12, 1), d(2026, 12, 31)),   # one whole month
        (d(2026, 12, 31), d(2027, 2, 1)),    # the year's turn
        (d(2026, 10, 15), None), (None, d(2026, 10, 15)), (None, d(2026, 10, 31)), (d(2026, 11, 1), None),
        (None, None),
    ]
    for start, end in windows:
        await assert_matches_brute_force(pool, start, end)


def test_sla_ranges_cover_each_day_of_the_window_once() -> None:
    def counted(day: dt.date, bounds: tuple) -> int:
        head_from, head_until, months_from, months_until, tail_from, tail_through = bounds
        return ((head_from <= day < head_until) + (months_from <= day.replace(day=1) < months_until)
                + (tail_from <= day <= tail_through))

    rng = random.Random(5)
    span = [dt.date(2025, 11, 1) + dt.timedelta(days=i) for i in range(600)]
    for _ in range(200):
        start = rng.choice(span[:400])
        end = start + dt.timedelta(days=rng.choice([0, 1, 27, 28, 30, 31, 45, 61, 190]))
        start = None if rng.random() < 0.1 else start
        end = None if rng.random() < 0.1 else end
        bounds = sla_ranges(start, end)
        for day in span:
            inside = (start is None or start <= day) and (end is None or day <= end)
            assert counted(day, bounds) == inside, (start, end, day, bounds)
    # a window of whole months reads no day at all; one inside a month reads no month
    assert sla_ranges(dt.date(2026, 1, 1), dt.date(2026, 12, 31)) == (
        dt.date(2026, 1, 1), dt.date(2026, 1, 1), dt.date(2026, 1, 1), dt.date(2027, 1, 1), dt.date.max, dt.date.min)
    assert sla_ranges(dt.date(2026, 12, 2), dt.date(2026, 12, 31))[2:4] == (dt.date.max, dt.date.min)
