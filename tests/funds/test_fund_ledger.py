"""The fund ledger as its users rely on it: capacity, reservations, the waiting list, payments and clawbacks,
replays that write nothing, refusals that say why, and a database that refuses what the code must never do."""

from __future__ import annotations

import asyncpg
import pytest
from fund_samples import DEFAULTS, GRANT, OFFICER, REBATE, YEAR, assert_ledger_adds_up, counts, default_capacity

from store import funds
from store.funds import CapacityTooLow, FundError, Promotion

BN = 1_000_000_000  # Rp 1 billion


async def capacity(pool, amount: int, *, key: str = "cap-1", programme: str = REBATE):
    return await funds.set_capacity(pool, YEAR, programme, amount, key=key, actor=OFFICER, reason="budget 2026",
                                    default_capacity_idr=DEFAULTS[programme])


async def reserve(pool, incentive_id: str, amount: int, *, key: str | None = None, programme: str = REBATE):
    return await funds.reserve(pool, YEAR, programme, incentive_id, amount, key=key or f"reserve:{incentive_id}",
                               actor="system", reason="estimated rebate", default_capacity_idr=DEFAULTS[programme])


async def available(pool, programme: str = REBATE) -> int:
    view = await funds.fund_view(pool, YEAR, default_capacity)
    return next(p.available_idr for p in view.programmes if p.programme == programme)


async def test_an_unopened_year_shows_every_programme_at_its_default_capacity(pool):
    view = await funds.fund_view(pool, YEAR, default_capacity)

    assert view.fiscal_year == YEAR
    assert {p.programme.value: (p.capacity_idr, p.available_idr, p.reserved_idr, p.waitlisted)
            for p in view.programmes} == {code: (cap, cap, 0, 0) for code, cap in DEFAULTS.items()}
    assert await pool.fetchval("SELECT count(*) FROM funds") == 0


async def test_a_first_reservation_opens_the_fund_at_its_default_capacity(pool):
    result = await reserve(pool, "INC-A", 3 * BN)

    assert (result.state, result.reserved_idr, result.position) == ("reserved", 3 * BN, None)
    assert await available(pool) == DEFAULTS[REBATE] - 3 * BN
    opening = await pool.fetchrow("SELECT * FROM fund_entries WHERE kind = 'capacity'")
    assert (opening["amount_idr"], opening["actor"], opening["incentive_id"]) == (DEFAULTS[REBATE], "system", None)
    await assert_ledger_adds_up(pool)


async def test_capacity_is_set_with_who_and_why(pool):
    fund, promotions = await capacity(pool, 5 * BN)

    assert (fund.capacity_idr, fund.available_idr, fund.waitlisted, promotions) == (5 * BN, 5 * BN, 0, [])
    entry = await pool.fetchrow("SELECT * FROM fund_entries WHERE key = 'cap-1'")
    assert (entry["kind"], entry["amount_idr"], entry["actor"], entry["reason"]) == (
        "capacity", 5 * BN - DEFAULTS[REBATE], OFFICER, "budget 2026")
    row = await pool.fetchrow("SELECT * FROM audit_log WHERE source_key = 'fund:cap-1'")
    assert (row["action"], row["actor"], row["detail"]["available_idr"]) == ("fund_capacity", OFFICER, 5 * BN)
    await assert_ledger_adds_up(pool)


async def test_what_does_not_fit_waits_in_arrival_order_and_a_release_promotes_the_oldest_that_fits(pool):
    await capacity(pool, 10 * BN)
    assert (await reserve(pool, "INC-A", 8 * BN)).state == "reserved"
    b = await reserve(pool, "INC-B", 5 * BN)
    c = await reserve(pool, "INC-C", 3 * BN)
    d = await reserve(pool, "INC-D", 1 * BN)  # fits in the 2 bn left: first come, first served

    assert (b.state, b.position, b.reserved_idr) == ("waitlisted", 1, 0)
    assert (c.state, c.position) == ("waitlisted", 2)
    assert d.state == "reserved"
    assert (await funds.fund_view(pool, YEAR, default_capacity)).programmes[0].waitlisted == 2

    released, promotions = await funds.release(pool, "INC-A", 2 * BN, key="rel-1", actor="system",
                                               reason="estimate lowered")

    assert released == 2 * BN  # 3 bn available: B (5 bn) still does not fit and is skipped; C (3 bn) does
    assert promotions == [Promotion(incentive_id="INC-C", fiscal_year=YEAR, programme=REBATE, reserved_idr=3 * BN)]
    assert (await funds.position(pool, "INC-C")).state == "reserved"
    assert (await funds.position(pool, "INC-B")).position == 1

    released, promotions = await funds.release(pool, "INC-A", key="rel-2", actor="system", reason="withdrawn")

    assert released == 6 * BN
    assert [p.incentive_id for p in promotions] == ["INC-B"]
    a = await funds.position(pool, "INC-A")
    assert (a.state, a.reserved_idr) == ("released", 0)
    assert await available(pool) == 10 * BN - 5 * BN - 3 * BN - 1 * BN
    promoted = await pool.fetchrow("SELECT * FROM fund_entries WHERE key = 'rel-2/promote/INC-B'")
    assert (promoted["kind"], promoted["amount_idr"]) == ("reserve", 5 * BN)
    await assert_ledger_adds_up(pool)


async def test_a_release_promotes_only_as_many_as_fit_oldest_first(pool):
    await capacity(pool, 4 * BN)
    await reserve(pool, "INC-A", 4 * BN)
    await reserve(pool, "INC-B", 3 * BN)
    await reserve(pool, "INC-C", 3 * BN)

    _, promotions = await funds.release(pool, "INC-A", 3 * BN, key="rel", actor="system", reason="lower")

    assert [p.incentive_id for p in promotions] == ["INC-B"]
    c = await funds.position(pool, "INC-C")
    assert (c.state, c.position) == ("waitlisted", 1)


async def test_leaving_the_waiting_list(pool):
    await capacity(pool, 1 * BN)
    await reserve(pool, "INC-A", 1 * BN)
    await reserve(pool, "INC-B", 2 * BN)
    await reserve(pool, "INC-C", 2 * BN)

    with pytest.raises(FundError, match="waiting list and holds no reservation"):
        await funds.release(pool, "INC-B", 1 * BN, key="rel-part", actor="system", reason="withdrawn")
    assert await funds.release(pool, "INC-B", key="rel-b", actor="applicant", reason="withdrawn") == (0, [])

    b = await funds.position(pool, "INC-B")
    assert (b.state, b.position) == ("released", None)
    assert (await funds.position(pool, "INC-C")).position == 1
    assert await funds.position(pool, "INC-NONE") is None
    await assert_ledger_adds_up(pool)


async def test_pay_moves_money_from_the_reservation_to_paid(pool):
    await capacity(pool, 10 * BN)
    await reserve(pool, "INC-A", 4 * BN)

    paid = await funds.pay(pool, "INC-A", 1_200_000_000, key="pay-1", actor="system", reason="first tranche")

    assert paid == 1_200_000_000

    a = await funds.position(pool, "INC-A")
    assert (a.state, a.reserved_idr, a.paid_idr) == ("reserved", 2_800_000_000, 1_200_000_000)
    fund = (await funds.fund_view(pool, YEAR, default_capacity)).programmes[0]
    assert (fund.reserved_idr, fund.paid_idr, fund.available_idr) == (2_800_000_000, 1_200_000_000, 6 * BN)

    with pytest.raises(FundError, match=r"cannot pay Rp 3,000,000,000 to INC-A: Rp 2,800,000,000 .* outstanding"):
        await funds.pay(pool, "INC-A", 3 * BN, key="pay-2", actor="system", reason="final tranche")
    await funds.release(pool, "INC-A", key="rel", actor="system", reason="audited lower")
    with pytest.raises(FundError, match="Rp 0 of its reservation is outstanding"):
        await funds.pay(pool, "INC-A", 1, key="pay-3", actor="system", reason="after release")
    with pytest.raises(FundError, match="never reserved"):
        await funds.pay(pool, "INC-NONE", 1, key="pay-4", actor="system", reason="unknown")
    await assert_ledger_adds_up(pool)


async def test_a_clawback_returns_money_to_the_fund_and_promotes(pool):
    await capacity(pool, 5 * BN)
    await reserve(pool, "INC-A", 5 * BN)
    await funds.pay(pool, "INC-A", 5 * BN, key="pay", actor="system", reason="paid in full")
    await reserve(pool, "INC-B", 2 * BN)
    assert await available(pool) == 0

    amount, promotions = await funds.clawback(pool, "INC-A", 2 * BN, key="claw-1", actor=OFFICER, reason="audit found")

    assert amount == 2 * BN
    assert [(p.incentive_id, p.reserved_idr) for p in promotions] == [("INC-B", 2 * BN)]
    fund = (await funds.fund_view(pool, YEAR, default_capacity)).programmes[0]
    assert (fund.clawed_back_idr, fund.paid_idr, fund.reserved_idr, fund.available_idr) == (2 * BN, 5 * BN, 2 * BN, 0)
    a = await funds.position(pool, "INC-A")
    assert (a.paid_idr, a.clawed_back_idr) == (5 * BN, 2 * BN)

    with pytest.raises(FundError, match=r"Rp 5,000,000,000 was paid and Rp 2,000,000,000 already clawed back, "
                                        r"so at most Rp 3,000,000,000"):
        await funds.clawback(pool, "INC-A", 3 * BN + 1, key="claw-2", actor=OFFICER, reason="too much")
    await funds.clawback(pool, "INC-A", 3 * BN, key="claw-3", actor=OFFICER, reason="the rest")
    assert await available(pool) == 3 * BN
    await assert_ledger_adds_up(pool)


async def test_a_replayed_key_answers_the_same_and_writes_nothing(pool):
    await capacity(pool, 3 * BN)
    first = await reserve(pool, "INC-A", 2 * BN, key="k-a")
    waiting = await reserve(pool, "INC-B", 2 * BN, key="k-b")
    paid = await funds.pay(pool, "INC-A", 1 * BN, key="k-pay", actor="system", reason="tranche")
    released = await funds.release(pool, "INC-A", key="k-rel", actor="system", reason="done")
    clawed = await funds.clawback(pool, "INC-A", 1 * BN, key="k-claw", actor=OFFICER, reason="found")
    raised = await capacity(pool, 6 * BN, key="k-cap")
    before = await counts(pool)

    assert await reserve(pool, "INC-A", 2 * BN, key="k-a") == first
    assert await reserve(pool, "INC-B", 2 * BN, key="k-b") == waiting  # the first answer, though B was promoted since
    assert await funds.pay(pool, "INC-A", 1 * BN, key="k-pay", actor="system", reason="tranche") == paid
    assert await funds.release(pool, "INC-A", key="k-rel", actor="system", reason="done") == released
    assert await funds.clawback(pool, "INC-A", 1 * BN, key="k-claw", actor=OFFICER, reason="found") == clawed
    assert await capacity(pool, 6 * BN, key="k-cap") == raised

    assert released[1] == [Promotion(incentive_id="INC-B", fiscal_year=YEAR, programme=REBATE, reserved_idr=2 * BN)]
    assert await counts(pool) == before
    with pytest.raises(FundError, match="key 'k-pay' was already used to pay INC-A"):
        await funds.release(pool, "INC-A", key="k-pay", actor="system", reason="wrong key")
    await assert_ledger_adds_up(pool)


async def test_an_application_reserves_once(pool):
    await reserve(pool, "INC-A", 1 * BN)
    with pytest.raises(FundError, match=r"INC-A already has a holding \(reserved\) in the location_rebate fund"):
        await reserve(pool, "INC-A", 1 * BN, key="another-key")
    with pytest.raises(FundError, match="already has a holding"):
        await reserve(pool, "INC-A", 1 * BN, key="other-fund", programme=GRANT)


async def test_capacity_below_what_is_committed_is_refused_with_the_figures(pool):
    await capacity(pool, 10 * BN)
    await reserve(pool, "INC-A", 6 * BN)
    await funds.pay(pool, "INC-A", 3 * BN, key="pay", actor="system", reason="tranche")
    await funds.clawback(pool, "INC-A", 1 * BN, key="claw", actor=OFFICER, reason="found")
    before = await counts(pool)

    with pytest.raises(CapacityTooLow) as refused:
        await capacity(pool, 5 * BN - 1, key="cap-low")

    err = refused.value
    assert (err.reserved_idr, err.paid_idr, err.clawed_back_idr, err.minimum_idr) == (3 * BN, 3 * BN, 1 * BN, 5 * BN)
    assert "Rp 3,000,000,000 reserved and Rp 3,000,000,000 paid, less Rp 1,000,000,000 clawed back" in str(err)
    assert "set at least Rp 5,000,000,000" in str(err)
    assert isinstance(err, FundError)
    assert await counts(pool) == before
    fund, _ = await capacity(pool, 5 * BN, key="cap-exact")
    assert fund.available_idr == 0


async def test_a_capacity_raise_promotes(pool):
    await capacity(pool, 1 * BN)
    await reserve(pool, "INC-A", 1 * BN)
    await reserve(pool, "INC-B", 2 * BN)

    fund, promotions = await capacity(pool, 3 * BN, key="cap-2")

    assert [p.incentive_id for p in promotions] == ["INC-B"]
    assert (fund.available_idr, fund.waitlisted) == (0, 0)


async def test_refused_input(pool):
    with pytest.raises(FundError, match="unknown programme 'cinema'"):
        await funds.reserve(pool, YEAR, "cinema", "INC-A", 1, key="k", actor="system", reason="r",
                            default_capacity_idr=1)
    with pytest.raises(FundError, match="fiscal year 1999 is outside 2000-2100"):
        await funds.reserve(pool, 1999, REBATE, "INC-A", 1, key="k", actor="system", reason="r",
                            default_capacity_idr=1)
    with pytest.raises(FundError, match="positive whole number"):
        await reserve(pool, "INC-A", 0)
    with pytest.raises(FundError, match="positive whole number"):
        await funds.clawback(pool, "INC-A", -5, key="k", actor="system", reason="r")
    with pytest.raises(ValueError, match="non-empty reason"):
        await funds.pay(pool, "INC-A", 1, key="k", actor="system", reason=" ")
    assert (await counts(pool))["fund_entries"] == 0


async def test_the_database_refuses_a_balance_below_zero(pool):
    await capacity(pool, 2 * BN)
    await reserve(pool, "INC-A", 1 * BN)
    await funds.pay(pool, "INC-A", 1 * BN, key="pay", actor="system", reason="paid")

    with pytest.raises(asyncpg.CheckViolationError, match="funds_available_not_negative"):
        await pool.execute("UPDATE funds SET reserved_idr = reserved_idr + $1", 1 * BN + 1)
    with pytest.raises(asyncpg.CheckViolationError, match="funds_available_not_negative"):
        await pool.execute("UPDATE funds SET capacity_idr = capacity_idr - $1", 1 * BN + 1)
    with pytest.raises(asyncpg.CheckViolationError):
        await pool.execute("UPDATE funds SET paid_idr = -1, capacity_idr = capacity_idr - 1 * $1", 1 * BN + 1)
    with pytest.raises(asyncpg.CheckViolationError, match="fund_holdings_clawback_within_paid"):
        await pool.execute("UPDATE fund_holdings SET clawed_back_idr = paid_idr + 1")
    with pytest.raises(asyncpg.CheckViolationError):
        await pool.execute("UPDATE fund_holdings SET reserved_idr = -1")
    await assert_ledger_adds_up(pool)


async def test_ledger_entries_cannot_be_changed_or_removed(pool):
    await reserve(pool, "INC-A", 1 * BN)

    for sql in ("UPDATE fund_entries SET amount_idr = 1", "DELETE FROM fund_entries", "TRUNCATE fund_entries CASCADE"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="fund_entries is append-only"):
            await pool.execute(sql)
    assert await pool.fetchval("SELECT count(*) FROM fund_entries") == 2  # the opening capacity and the reservation


async def test_every_entry_has_its_audit_row_without_personal_data(pool):
    await capacity(pool, 2 * BN)
    await reserve(pool, "INC-A", 2 * BN)
    await reserve(pool, "INC-B", 1 * BN)
    await funds.release(pool, "INC-A", 1 * BN, key="rel", actor="system", reason="lower")

    rows = await pool.fetch("SELECT action, application_id, detail FROM audit_log ORDER BY seq")
    assert [(r["action"], r["application_id"]) for r in rows] == [
        ("fund_capacity", None), ("fund_capacity", None), ("fund_reserve", "INC-A"), ("fund_waitlist", "INC-B"),
        ("fund_release", "INC-A"), ("fund_reserve", "INC-B"),
    ]
    assert set(rows[-1]["detail"]) == {"fiscal_year", "programme", "amount_idr", "reason", "capacity_idr",
                                       "reserved_idr", "paid_idr", "clawed_back_idr", "available_idr"}
    await assert_ledger_adds_up(pool)
