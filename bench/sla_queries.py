"""How fast the report queries answer on a production-sized read model.

Seeds 100,000 applications and 1,000,000 clearances (times --scale) plus a few thousand
outage episodes with COPY, then runs each report query (SLA figures, breaches, the permit list
with its filters and scopes, the officer queue) --runs times and prints p50/p95 in
milliseconds, ending with `worst_p95_ms=<number>`. Without --database-url it starts an
embedded PostgreSQL in a temporary folder; with one it creates (and drops) a scratch database.

    python bench/sla_queries.py [--scale 0.01] [--database-url URL] [--runs 50]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from store.migrate import migrate  # noqa: E402
from store.pool import open_pool  # noqa: E402
from store.queue import officer_queue  # noqa: E402
from store.reports import agency_sla, breaches, encode_cursor, list_permits  # noqa: E402

APPLICATIONS = 100_000
CLEARANCES_PER_APPLICATION = 10  # five agencies, two revisions each: 1,000,000 clearances
OUTAGES = 3_000
FIRST_DAY = datetime(2025, 1, 1, tzinfo=UTC)
NOW = datetime(2027, 1, 1, 5, 0, tzinfo=UTC)  # two years of applications, then the reports are read
SPAN_SECONDS = int((datetime(2026, 12, 31, 12, tzinfo=UTC) - FIRST_DAY).total_seconds())

SLA_DAYS = {"parks": 5, "heritage": 7, "district": 3, "transport": 5, "police": 14, "fire": 5, "aviation": 14,
            "transit": 5, "culture_ministry": 7}
AGENCY_WEIGHTS = {"parks": 30, "heritage": 12, "district": 40, "transport": 25, "police": 25, "fire": 6,
                  "aviation": 8, "transit": 8, "culture_ministry": 10}
STATUSES = {"completed": 40, "issued": 15, "in_review": 12, "rejected": 5, "withdrawn": 5, "lapsed": 5,
            "awaiting_payment": 5, "intake": 3, "submitted": 2, "awaiting_information": 4, "officer_review": 4}
WORDS = ("senja kota malam hujan jalan cahaya laut angin bulan rumah pasar sungai merah biru emas hijau "
         "langit bintang kopi taman gedung kereta lampu pagi siang suara mimpi cinta rindu pulang").split()
PLACES = ("Taman Suropati, Kota Tua, Monas, Pasar Baru, Taman Menteng, Bundaran HI, Stasiun Kota, GBK, "
          "Ancol, Glodok, Blok M, Sudirman, Thamrin, Kemang, Cikini, Senayan, Taman Ismail Marzuki, "
          "Pelabuhan Sunda Kelapa, Museum Fatahillah, Hutan Kota Srengseng, Kebayoran, Tebet, Menteng").split(", ")


# ---- data ------------------------------------------------------------------------------


def generate(scale: float, seed: int = 20260101) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Applications, clearances and outage episodes as COPY records."""
    rng = random.Random(seed)
    flags = random.Random(seed + 1)  # the queue's flags: a second stream, so the rest of the data stays the same
    n_apps = max(int(APPLICATIONS * scale), 20)
    companies = [f"PT {rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {rng.choice(['Film', 'Pictures', 'Studio', 'Media', 'Sinema'])}"
                 for _ in range(max(n_apps // 50, 10))]
    organisation_of = {company: f"ORG-{i:08d}" for i, company in enumerate(dict.fromkeys(companies))}
    statuses, status_weights = list(STATUSES), list(STATUSES.values())
    agencies, agency_weights = list(AGENCY_WEIGHTS), list(AGENCY_WEIGHTS.values())
    applications, clearances = [], []
    for i in range(n_apps):
        app_id = f"PRM-{i:012d}"
        submitted = FIRST_DAY + timedelta(seconds=rng.randrange(SPAN_SECONDS))
        submitted = submitted.replace(second=0, microsecond=0)  # minute precision: plenty of ties
        recent = (NOW - submitted) < timedelta(days=45)
        status = rng.choices(statuses, status_weights)[0] if not recent else rng.choice(
            ["in_review", "intake", "awaiting_information", "officer_review", "submitted"])
        routed: list[str] = []
        while len(routed) < 5:
            pick = rng.choices(agencies, agency_weights)[0]
            if pick not in routed:
                routed.append(pick)
        permit = f"JFC-{submitted.year}-{i:06d}" if status in ("issued", "completed") else None
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 3))).title()
        locations = "; ".join(rng.sample(PLACES, rng.randint(1, 3)))
        company = rng.choice(companies)
        expedite = status in ("officer_review", "submitted") and flags.random() < 0.05
        applications.append((
            app_id, status, "2026.1", submitted, title, company, locations, routed, permit,
            submitted + timedelta(days=30) if permit else None, rng.randrange(1, 50) * 1_000_000,
            submitted + timedelta(days=25) if permit else None,
            submitted + timedelta(days=rng.randint(1, 14)) if status not in ("completed", "rejected") else None,
            None, '{"bench": true}', 7, organisation_of[company], expedite, 1,
        ))
        for agency in routed:
            for revision in (1, 2):
                clearances.append(_clearance(rng, app_id, agency, revision, submitted, recent, flags))
    outages = []
    n_outages = max(int(OUTAGES * scale), 30)
    for k in range(n_outages):
        started = FIRST_DAY + timedelta(seconds=rng.randrange(SPAN_SECONDS))
        still_open = k < n_outages // 300 + 1 and started > NOW - timedelta(days=3)
        recovered = None if still_open else started + timedelta(minutes=rng.randint(1, 240))
        outages.append((f"PRM-{rng.randrange(n_apps):012d}", rng.choices(agencies, agency_weights)[0], 1, k,
                        started, recovered, rng.randint(1, 20)))
    return applications, clearances, outages


def _clearance(rng: random.Random, app_id: str, agency: str, revision: int, submitted: datetime, recent: bool,
               flags: random.Random) -> tuple:
    requested = submitted + timedelta(hours=rng.randint(1, 48) + (revision - 1) * 24 * rng.randint(3, 20))
    accepted = requested + timedelta(minutes=rng.randint(0, 90))
    sla_days = SLA_DAYS[agency]
    due = accepted + timedelta(days=sla_days * 1.4)
    decided_open = (recent and rng.random() < 0.7) or rng.random() < 0.02
    turnaround = min(int(rng.expovariate(1 / (sla_days * 0.4))), 40)
    if decided_open:
        overdue = NOW > due
        sla = "breached" if overdue else rng.choice(["on_track", "on_track", "at_risk", "paused"])
        needs_officer = overdue and flags.random() < 0.3  # silent past the final deadline, and the like
        return (app_id, agency, revision, "submitted", f"REF-{app_id}-{agency}-{revision}", requested, accepted,
                due, due + timedelta(days=7), None, due if overdue else None, None, sla, None, 0, None, needs_officer)
    decided = accepted + timedelta(days=turnaround * 1.4, minutes=rng.randint(0, 600))
    late = turnaround > sla_days
    deemed = late and turnaround >= sla_days + 5 and rng.random() < 0.5
    outcome = "deemed_approved" if deemed else rng.choices(
        ["approved", "approved_with_conditions", "rejected", "withdrawn"], [70, 20, 7, 3])[0]
    needs_officer = outcome == "rejected" and flags.random() < 0.05  # a rejection to confirm
    return (app_id, agency, revision, outcome, f"REF-{app_id}-{agency}-{revision}", requested, accepted, due,
            due + timedelta(days=7), due - timedelta(days=1) if late else None, due if late else None, decided,
            "breached" if late else "met", outcome, rng.randint(0, 3), turnaround, needs_officer)


APPLICATION_COLUMNS = ["id", "status", "rule_set", "submitted_at", "production_title", "applicant_company",
                       "location_names", "agencies", "permit_number", "issued_at", "fees_total_idr", "paid_at",
                       "next_deadline", "earliest_feasible_start", "snapshot", "projected_seq", "organisation_id",
                       "awaiting_expedite", "revision"]
CLEARANCE_COLUMNS = ["application_id", "agency", "revision", "status", "reference", "requested_at", "accepted_at",
                     "due_at", "final_deadline_at", "reminded_at", "breached_at", "decided_at", "sla", "outcome",
                     "failed_attempts", "turnaround_business_days", "needs_officer"]
OUTAGE_COLUMNS = ["application_id", "agency", "revision", "episode", "started_at", "recovered_at", "failed_attempts"]


def _chunks(rows: list[tuple], size: int = 100_000) -> Iterator[list[tuple]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


async def seed(url: str, scale: float) -> dict[str, float]:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    applications, clearances, outages = generate(scale)
    timings["generate_s"] = time.perf_counter() - started
    conn = await asyncpg.connect(url)
    try:
        # binary COPY: jsonb is a version byte (1) then the text
        await conn.set_type_codec("jsonb", encoder=lambda text: b"\x01" + text.encode(),
                                  decoder=lambda raw: raw[1:].decode(), schema="pg_catalog", format="binary")
        started = time.perf_counter()
        for chunk in _chunks(applications):
            await conn.copy_records_to_table("applications", records=chunk, columns=APPLICATION_COLUMNS)
        for chunk in _chunks(clearances, 250_000):
            await conn.copy_records_to_table("clearances", records=chunk, columns=CLEARANCE_COLUMNS)
        await conn.copy_records_to_table("agency_outages", records=outages, columns=OUTAGE_COLUMNS)
        timings["copy_s"] = time.perf_counter() - started
        started = time.perf_counter()
        await conn.execute("VACUUM ANALYZE")
        timings["vacuum_analyze_s"] = time.perf_counter() - started
        timings["applications"] = len(applications)
        timings["clearances"] = len(clearances)
        timings["outages"] = len(outages)
        timings["breached"] = await conn.fetchval("SELECT count(*) FROM clearances WHERE breached_at IS NOT NULL")
        timings["sla_daily_rows"] = await conn.fetchval("SELECT count(*) FROM sla_daily")
        timings["sla_monthly_rows"] = await conn.fetchval("SELECT count(*) FROM sla_monthly")
        timings["awaiting_expedite"] = await conn.fetchval("SELECT count(*) FROM applications WHERE awaiting_expedite")
        timings["needs_officer"] = await conn.fetchval("SELECT count(*) FROM clearances WHERE needs_officer")
    finally:
        await conn.close()
    return timings


# ---- queries -------------------------------------------------------------------------------


async def run(url: str, scale: float, runs: int) -> float:
    print(f"seeding at scale {scale} ...", flush=True)
    await migrate(url)
    figures = await seed(url, scale)
    print("  " + ", ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()))
    print(f"  seeding took {figures['generate_s'] + figures['copy_s'] + figures['vacuum_analyze_s']:.1f} s "
          "(generate + COPY + VACUUM ANALYZE)", flush=True)
    pool = await open_pool(url, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn:
            deep = await conn.fetchrow(
                "SELECT submitted_at, id FROM applications ORDER BY submitted_at DESC, id DESC OFFSET $1 LIMIT 1",
                int(figures["applications"] * 0.9))
            company, organisation = await conn.fetchrow(
                "SELECT applicant_company, organisation_id FROM applications ORDER BY id LIMIT 1")
            permit = await conn.fetchval("SELECT permit_number FROM applications WHERE permit_number IS NOT NULL "
                                         "ORDER BY id DESC LIMIT 1")
        deep_cursor = encode_cursor(deep["submitted_at"], deep["id"])
        last_30 = (date(2026, 12, 2), date(2026, 12, 31))
        year = (date(2026, 1, 1), date(2026, 12, 31))
        queries: list[tuple[str, Callable[[], Awaitable[object]]]] = [
            ("agency_sla 30 days", lambda: agency_sla(pool, *last_30, NOW)),
            ("agency_sla whole year", lambda: agency_sla(pool, *year, NOW)),
            ("agency_sla everything", lambda: agency_sla(pool, None, None, NOW)),
            ("breaches (200 oldest)", lambda: breaches(pool, NOW)),
            ("breaches open only", lambda: breaches(pool, NOW, open_only=True)),
            ("permits first page", lambda: list_permits(pool)),
            ("permits status=in_review", lambda: list_permits(pool, status="in_review")),
            ("permits status=lapsed", lambda: list_permits(pool, status="lapsed")),
            ("permits agency=aviation", lambda: list_permits(pool, agency="aviation")),
            ("permits agency+status", lambda: list_permits(pool, agency="fire", status="officer_review")),
            (f"permits q=company ({company})", lambda: list_permits(pool, q=company.lower())),
            ("permits q=title word 'senja'", lambda: list_permits(pool, q="Senja")),
            ("permits q=location 'suropati'", lambda: list_permits(pool, q="suropati")),
            (f"permits q=permit {permit}", lambda: list_permits(pool, q=permit)),
            ("permits q=no match 'zzqx'", lambda: list_permits(pool, q="zzqx")),
            ("permits deep cursor (90%)", lambda: list_permits(pool, cursor=deep_cursor)),
            (f"permits organisation_id={organisation}", lambda: list_permits(pool, organisation_id=organisation)),
            ("permits organisation_id + q='senja'", lambda: list_permits(pool, organisation_id=organisation, q="senja")),
            ("permits organisation_id + status=lapsed",
             lambda: list_permits(pool, organisation_id=organisation, status="lapsed")),
            ("permits agency_scope=aviation", lambda: list_permits(pool, agency_scope="aviation")),
            ("permits agency_scope=fire + q='suropati'", lambda: list_permits(pool, agency_scope="fire", q="suropati")),
            ("officer queue (200 most urgent)", lambda: officer_queue(pool, NOW)),
        ]
        worst = 0.0
        print(f"{'query':<52}{'p50 ms':>9}{'p95 ms':>9}{'rows':>7}")
        for name, query in queries:
            for _ in range(3):
                await query()  # warm-up: statement cache, buffers
            samples = []
            for _ in range(runs):
                started = time.perf_counter()
                result = await query()
                samples.append((time.perf_counter() - started) * 1000)
            samples.sort()
            p50 = samples[len(samples) // 2]
            p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
            worst = max(worst, p95)
            count = len(result.items) if hasattr(result, "items") else len(result)  # type: ignore[arg-type]
            print(f"{name:<52}{p50:>9.2f}{p95:>9.2f}{count:>7}", flush=True)
    finally:
        await pool.close()
    return worst


async def main_async(args: argparse.Namespace) -> float:
    if args.database_url:
        return await _with_scratch_database(args.database_url, args)
    from store.server import embedded_server

    with tempfile.TemporaryDirectory(prefix="jfc-bench-") as folder:
        server = embedded_server(Path(folder) / "data")
        try:
            return await _with_scratch_database(server.get_uri(), args)
        finally:
            server.cleanup()


async def _with_scratch_database(url: str, args: argparse.Namespace) -> float:
    name = f"jfc_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        return await run(_with_database(url, name), args.scale, args.runs)
    finally:
        admin = await asyncpg.connect(url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="Fraction of the full data set (1.0 = 100k/1M)")
    parser.add_argument("--database-url", help="A PostgreSQL server to use instead of an embedded one")
    parser.add_argument("--runs", type=int, default=50, help="Timed runs per query")
    args = parser.parse_args()
    if not 0 < args.scale <= 10:
        parser.error("--scale must be in (0, 10]")
    worst = asyncio.run(main_async(args))
    print(f"worst_p95_ms={worst:.2f}")


if __name__ == "__main__":
    main()
