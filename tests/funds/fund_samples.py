"""What the fund tests share: a fund year, amounts, and the checks that the ledger adds up."""

from __future__ import annotations

from typing import Any

import asyncpg

from store import audit

YEAR = 2026
REBATE = "location_rebate"
GRANT = "shooting_days_grant"
DEFAULTS = {"location_rebate": 10_000_000_000, "shooting_days_grant": 4_000_000_000,
            "first_feature_fund": 6_000_000_000}
OFFICER = "officer:OFF-ANI"


def default_capacity(programme: str) -> int:
    return DEFAULTS[programme]


async def counts(db: asyncpg.Pool) -> dict[str, int]:
    """Rows in every table an operation writes to, to prove a replay writes nothing."""
    tables = ("funds", "fund_holdings", "fund_entries", "fund_operations", "audit_log")
    return {t: await db.fetchval(f"SELECT count(*) FROM {t}") for t in tables}


async def assert_ledger_adds_up(db: asyncpg.Pool, fiscal_year: int | None = None) -> list[dict[str, Any]]:
    """Per fund (of `fiscal_year`, or all): no balance negative, `available + reserved + paid = capacity +
    clawed_back`, the balances equal the sums of the entries and of the holdings; and every entry has its audit row,
    and the audit chain verifies."""
    funds = [dict(r) for r in await db.fetch(
        "SELECT * FROM funds WHERE fiscal_year = coalesce($1, fiscal_year) ORDER BY fiscal_year, programme",
        fiscal_year)]
    for fund in funds:
        name = (fund["fiscal_year"], fund["programme"])
        available = fund["capacity_idr"] + fund["clawed_back_idr"] - fund["reserved_idr"] - fund["paid_idr"]
        assert min(available, fund["capacity_idr"], fund["reserved_idr"], fund["paid_idr"],
                   fund["clawed_back_idr"]) >= 0, (name, fund)
        assert available + fund["reserved_idr"] + fund["paid_idr"] == fund["capacity_idr"] + fund["clawed_back_idr"]

        sums = dict(await db.fetch(
            "SELECT kind, sum(amount_idr)::bigint FROM fund_entries WHERE fiscal_year = $1 AND programme = $2 "
            "GROUP BY kind", *name))
        entries = {
            "capacity_idr": sums.get("capacity", 0),
            "reserved_idr": sums.get("reserve", 0) - sums.get("release", 0) - sums.get("pay", 0),
            "paid_idr": sums.get("pay", 0),
            "clawed_back_idr": sums.get("clawback", 0),
        }
        assert {k: fund[k] for k in entries} == entries, (name, "the entries do not add up to the balances")

        held = await db.fetchrow(
            "SELECT coalesce(sum(reserved_idr), 0)::bigint AS reserved_idr, coalesce(sum(paid_idr), 0)::bigint AS "
            "paid_idr, coalesce(sum(clawed_back_idr), 0)::bigint AS clawed_back_idr FROM fund_holdings "
            "WHERE fiscal_year = $1 AND programme = $2", *name)
        assert dict(held) == {k: fund[k] for k in ("reserved_idr", "paid_idr", "clawed_back_idr")}, name

    unaudited = await db.fetch(
        "SELECT e.key FROM fund_entries e LEFT JOIN audit_log a ON a.source_key = 'fund:' || e.key "
        "AND a.action = 'fund_' || e.kind AND a.application_id IS NOT DISTINCT FROM e.incentive_id "
        "WHERE a.seq IS NULL")
    assert not unaudited, f"entries without their audit row: {[r['key'] for r in unaudited]}"
    result = await audit.verify(db)
    assert result.ok, result
    return funds
