"""The incentive funds (design §4): one ledger per fiscal year and programme, in whole rupiah.

Every operation is one transaction that first locks its fund's row (`SELECT ... FOR UPDATE`), so any number of
workers serialise per fund. It appends its ledger entries (each with its audit row) and records its answer under
its key: a replay gets the first answer and writes nothing. A reservation that does not fit joins the fund's
waiting list; whatever frees money (a release, a clawback, a higher capacity) promotes, oldest first, each waiting
application that fits then. The CHECKs of `0009_funds.sql` keep every balance, and `available`, non-negative in the
database itself: `available + reserved + paid = capacity + clawed_back`.

Locks, always in this order, so workers never deadlock: the operation's key, the application (reserve), the fund's
row, then the audit chain's lock, held until commit. A caller passing its own connection must not hold the latter.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel

from schemas.incentives import FundProgramme, FundView, Programme
from store import audit
from store.pool import acquire

SYSTEM = "system"
# Advisory lock classes (transaction locks), taken before the fund's row: nothing waits for a row after the audit lock.
KEY_LOCK = 0x46554E4B  # "FUNK": one operation per key at a time, so recording it never waits on another
INCENTIVE_LOCK = 0x46554E49  # "FUNI": one reservation per application at a time, whichever fund it is for
FISCAL_YEARS = range(2000, 2101)  # what funds.fiscal_year accepts

_FUND = "fiscal_year, programme, capacity_idr, reserved_idr, paid_idr, clawed_back_idr"
_HOLDING = ("incentive_id, fiscal_year, programme, arrival, state, requested_idr, reserved_idr, paid_idr, "
            "clawed_back_idr")
# How each kind of entry moves the fund's balances ($3 is its amount).
_MOVES = {
    "capacity": "capacity_idr = capacity_idr + $3",
    "reserve": "reserved_idr = reserved_idr + $3",
    "release": "reserved_idr = reserved_idr - $3",
    "pay": "reserved_idr = reserved_idr - $3, paid_idr = paid_idr + $3",
    "clawback": "clawed_back_idr = clawed_back_idr + $3",
}


class FundError(Exception):
    """A refused fund operation: what was asked does not fit the ledger. Nothing was written."""


class CapacityTooLow(FundError):
    """A capacity below what the fund has already committed (reserved and paid, less what was clawed back)."""

    def __init__(self, fiscal_year: int, programme: str, capacity_idr: int, *, reserved_idr: int, paid_idr: int,
                 clawed_back_idr: int) -> None:
        self.fiscal_year, self.programme, self.capacity_idr = fiscal_year, programme, capacity_idr
        self.reserved_idr, self.paid_idr, self.clawed_back_idr = reserved_idr, paid_idr, clawed_back_idr
        self.minimum_idr = max(reserved_idr + paid_idr - clawed_back_idr, 0)
        super().__init__(
            f"capacity Rp {capacity_idr:,} for {programme} {fiscal_year} is below what the fund has committed: "
            f"Rp {reserved_idr:,} reserved and Rp {paid_idr:,} paid, less Rp {clawed_back_idr:,} clawed back; "
            f"set at least Rp {self.minimum_idr:,}, or release reservations first"
        )


class Promotion(BaseModel):
    """A waiting application that now holds its reservation: its workflow is to be told."""

    incentive_id: str
    fiscal_year: int
    programme: Programme
    reserved_idr: int


class Reservation(BaseModel):
    """The answer to `reserve`: the money is reserved, or the application waits at `position` (1 = next)."""

    incentive_id: str
    fiscal_year: int
    programme: Programme
    state: Literal["reserved", "waitlisted"]
    requested_idr: int
    reserved_idr: int
    position: int | None = None


class Holding(BaseModel):
    """What one application holds in its fund. `released`: nothing more will be paid from its reservation."""

    incentive_id: str
    fiscal_year: int
    programme: Programme
    state: Literal["reserved", "waitlisted", "released"]
    requested_idr: int
    reserved_idr: int  # outstanding
    paid_idr: int
    clawed_back_idr: int
    position: int | None = None


async def fund_view(db: asyncpg.Pool | asyncpg.Connection, fiscal_year: int,
                    default_capacity: Callable[[str], int]) -> FundView:
    """Every programme's fund of `fiscal_year`, as one snapshot; a fund not opened yet shows its default capacity."""
    async with acquire(db) as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        funds = {r["programme"]: r for r in await conn.fetch(f"SELECT {_FUND} FROM funds WHERE fiscal_year = $1",
                                                             fiscal_year)}
        waiting = dict(await conn.fetch(
            "SELECT programme, count(*) FROM fund_holdings WHERE fiscal_year = $1 AND state = 'waitlisted' "
            "GROUP BY programme", fiscal_year))
    programmes = []
    for programme in Programme:
        fund = funds.get(programme.value)
        if fund is None:
            capacity = default_capacity(programme.value)
            programmes.append(FundProgramme(programme=programme, capacity_idr=capacity, reserved_idr=0, paid_idr=0,
                                            clawed_back_idr=0, available_idr=capacity, waitlisted=0))
        else:
            programmes.append(_view(fund, waiting.get(programme.value, 0)))
    return FundView(fiscal_year=fiscal_year, programmes=programmes)


async def set_capacity(db: asyncpg.Pool | asyncpg.Connection, fiscal_year: int, programme: str, capacity_idr: int,
                       *, key: str, actor: str, reason: str,
                       default_capacity_idr: int) -> tuple[FundProgramme, list[Promotion]]:
    """Set a fund's capacity; refused with `CapacityTooLow` below what is committed. A raise promotes waiting ones."""
    code = _programme(programme)
    if not isinstance(capacity_idr, int) or capacity_idr < 0:
        raise FundError(f"a capacity is a whole number of rupiah, 0 or more; got {capacity_idr!r}")
    async with _transaction(db, key, actor, reason) as tx:
        fund = await tx.open_fund(fiscal_year, code, default_capacity_idr)
        if (done := await tx.replayed("set_capacity", None, fiscal_year, code)) is not None:
            return FundProgramme.model_validate(done["fund"]), _promotions(done["promotions"])
        if capacity_idr + fund["clawed_back_idr"] < fund["reserved_idr"] + fund["paid_idr"]:
            raise CapacityTooLow(fiscal_year, code, capacity_idr, reserved_idr=fund["reserved_idr"],
                                 paid_idr=fund["paid_idr"], clawed_back_idr=fund["clawed_back_idr"])
        fund = await tx.entry(fund, "capacity", capacity_idr - fund["capacity_idr"], None)
        fund, promotions = await tx.promote(fund)
        view = _view(fund, await _waiting(tx.conn, fiscal_year, code))
        await tx.record("set_capacity", None, fiscal_year, code,
                        {"fund": view.model_dump(mode="json"), "promotions": _dump(promotions)})
    return view, promotions


async def reserve(db: asyncpg.Pool | asyncpg.Connection, fiscal_year: int, programme: str, incentive_id: str,
                  amount_idr: int, *, key: str, actor: str, reason: str, default_capacity_idr: int) -> Reservation:
    """Reserve `amount_idr` for an application if it fits in what is available, else put it at the end of the
    waiting list. Once per application."""
    code = _programme(programme)
    _positive("a reservation", amount_idr)
    async with _transaction(db, key, actor, reason) as tx:
        await tx.conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", INCENTIVE_LOCK, incentive_id)
        fund = await tx.open_fund(fiscal_year, code, default_capacity_idr)
        if (done := await tx.replayed("reserve", incentive_id, fiscal_year, code)) is not None:
            return Reservation.model_validate(done)
        held = await tx.conn.fetchrow("SELECT fiscal_year, programme, state FROM fund_holdings WHERE incentive_id = $1",
                                      incentive_id)
        if held is not None:
            raise FundError(f"{incentive_id} already has a holding ({held['state']}) in the {held['programme']} fund "
                            f"of {held['fiscal_year']}; an application reserves once (release or pay what it holds)")
        fits = amount_idr <= _available(fund)
        await tx.conn.execute(
            "INSERT INTO fund_holdings (incentive_id, fiscal_year, programme, state, requested_idr, arrived_at, "
            "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
            incentive_id, fiscal_year, code, "reserved" if fits else "waitlisted", amount_idr, tx.at)
        if fits:
            await tx.conn.execute("UPDATE fund_holdings SET reserved_idr = requested_idr WHERE incentive_id = $1",
                                  incentive_id)
            await tx.entry(fund, "reserve", amount_idr, incentive_id)
            result = Reservation(incentive_id=incentive_id, fiscal_year=fiscal_year, programme=code, state="reserved",
                                 requested_idr=amount_idr, reserved_idr=amount_idr)
        else:
            place = await _position(tx.conn, incentive_id)
            await tx.audit("fund_waitlist", incentive_id, tx.key,
                           {"fiscal_year": fiscal_year, "programme": code, "requested_idr": amount_idr,
                            "available_idr": _available(fund), "position": place, "reason": tx.reason})
            result = Reservation(incentive_id=incentive_id, fiscal_year=fiscal_year, programme=code,
                                 state="waitlisted", requested_idr=amount_idr, reserved_idr=0, position=place)
        await tx.record("reserve", incentive_id, fiscal_year, code, result.model_dump(mode="json"))
    return result


async def release(db: asyncpg.Pool | asyncpg.Connection, incentive_id: str, amount_idr: int | None = None, *,
                  key: str, actor: str, reason: str) -> tuple[int, list[Promotion]]:
    """Release `amount_idr` of an application's outstanding reservation (None: all of it, or its place on the
    waiting list); then promote waiting applications that fit. Returns what was released and the promotions."""
    if amount_idr is not None:
        _positive("a release", amount_idr)
    async with _transaction(db, key, actor, reason) as tx:
        fund, holding = await tx.lock_holding(incentive_id)
        if (done := await tx.replayed("release", incentive_id, fund["fiscal_year"], fund["programme"])) is not None:
            return done["amount_idr"], _promotions(done["promotions"])
        state, outstanding = holding["state"], holding["reserved_idr"]
        if state == "waitlisted" and amount_idr is not None:
            raise FundError(f"{incentive_id} is on the waiting list and holds no reservation; release it with no "
                            f"amount to take it off the list")
        released = outstanding if amount_idr is None else amount_idr
        if released > outstanding:
            raise FundError(f"cannot release Rp {released:,} of {incentive_id}: Rp {outstanding:,} of its reservation "
                            f"is outstanding ({state}; Rp {holding['paid_idr']:,} paid)")
        closing = state != "released" and released == outstanding
        promotions: list[Promotion] = []
        if closing or released:
            await tx.conn.execute(
                "UPDATE fund_holdings SET reserved_idr = reserved_idr - $2, state = $3, updated_at = $4 "
                "WHERE incentive_id = $1", incentive_id, released, "released" if closing else state, tx.at)
            fund = await tx.entry(fund, "release", released, incentive_id)
            fund, promotions = await tx.promote(fund)
        await tx.record("release", incentive_id, fund["fiscal_year"], fund["programme"],
                        {"amount_idr": released, "promotions": _dump(promotions)})
    return released, promotions


async def pay(db: asyncpg.Pool | asyncpg.Connection, incentive_id: str, amount_idr: int, *, key: str, actor: str,
              reason: str) -> int:
    """Move `amount_idr` of an application's outstanding reservation to paid; returns the amount paid."""
    _positive("a payment", amount_idr)
    async with _transaction(db, key, actor, reason) as tx:
        fund, holding = await tx.lock_holding(incentive_id)
        if (done := await tx.replayed("pay", incentive_id, fund["fiscal_year"], fund["programme"])) is not None:
            return done["amount_idr"]
        if amount_idr > holding["reserved_idr"]:
            raise FundError(f"cannot pay Rp {amount_idr:,} to {incentive_id}: Rp {holding['reserved_idr']:,} of its "
                            f"reservation is outstanding ({holding['state']}; Rp {holding['paid_idr']:,} paid already)")
        await tx.conn.execute(
            "UPDATE fund_holdings SET reserved_idr = reserved_idr - $2, paid_idr = paid_idr + $2, updated_at = $3 "
            "WHERE incentive_id = $1", incentive_id, amount_idr, tx.at)
        await tx.entry(fund, "pay", amount_idr, incentive_id)
        await tx.record("pay", incentive_id, fund["fiscal_year"], fund["programme"], {"amount_idr": amount_idr})
    return amount_idr


async def clawback(db: asyncpg.Pool | asyncpg.Connection, incentive_id: str, amount_idr: int, *, key: str,
                   actor: str, reason: str) -> tuple[int, list[Promotion]]:
    """Return `amount_idr` recovered from a production to its fund (at most what was paid and not yet clawed back);
    then promote waiting applications that fit."""
    _positive("a clawback", amount_idr)
    async with _transaction(db, key, actor, reason) as tx:
        fund, holding = await tx.lock_holding(incentive_id)
        if (done := await tx.replayed("clawback", incentive_id, fund["fiscal_year"], fund["programme"])) is not None:
            return done["amount_idr"], _promotions(done["promotions"])
        recoverable = holding["paid_idr"] - holding["clawed_back_idr"]
        if amount_idr > recoverable:
            raise FundError(f"cannot claw back Rp {amount_idr:,} from {incentive_id}: Rp {holding['paid_idr']:,} was "
                            f"paid and Rp {holding['clawed_back_idr']:,} already clawed back, so at most "
                            f"Rp {recoverable:,}")
        await tx.conn.execute(
            "UPDATE fund_holdings SET clawed_back_idr = clawed_back_idr + $2, updated_at = $3 WHERE incentive_id = $1",
            incentive_id, amount_idr, tx.at)
        fund = await tx.entry(fund, "clawback", amount_idr, incentive_id)
        fund, promotions = await tx.promote(fund)
        await tx.record("clawback", incentive_id, fund["fiscal_year"], fund["programme"],
                        {"amount_idr": amount_idr, "promotions": _dump(promotions)})
    return amount_idr, promotions


async def position(db: asyncpg.Pool | asyncpg.Connection, incentive_id: str) -> Holding | None:
    """What an application holds in its fund, and its place on the waiting list; None if it never reserved."""
    async with acquire(db) as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        row = await conn.fetchrow(f"SELECT {_HOLDING} FROM fund_holdings WHERE incentive_id = $1", incentive_id)
        if row is None:
            return None
        place = await _position(conn, incentive_id) if row["state"] == "waitlisted" else None
    return Holding(**{k: v for k, v in row.items() if k != "arrival"}, position=place)


# ---- one operation's transaction -----------------------------------------------------------------------------


@dataclass
class _Tx:
    conn: asyncpg.Connection
    key: str
    actor: str
    reason: str
    at: dt.datetime

    async def open_fund(self, fiscal_year: int, programme: str, default_capacity_idr: int) -> asyncpg.Record:
        """The fund's row, locked; opened first with the programme's default capacity (a `capacity` entry)."""
        if fiscal_year not in FISCAL_YEARS:
            raise FundError(f"fiscal year {fiscal_year!r} is outside {FISCAL_YEARS.start}-{FISCAL_YEARS.stop - 1}")
        if not isinstance(default_capacity_idr, int) or default_capacity_idr < 0:
            raise FundError(f"a default capacity is a whole number of rupiah, 0 or more; got {default_capacity_idr!r}")
        opened = await self.conn.fetchval(
            "INSERT INTO funds (fiscal_year, programme, capacity_idr) VALUES ($1, $2, 0) "
            "ON CONFLICT DO NOTHING RETURNING true", fiscal_year, programme)
        fund = await _lock_fund(self.conn, fiscal_year, programme)
        if opened:
            fund = await self.entry(fund, "capacity", default_capacity_idr, None, key=f"open:{fiscal_year}:{programme}",
                                    actor=SYSTEM, reason="the programme's default capacity for the fiscal year")
        return fund

    async def lock_holding(self, incentive_id: str) -> tuple[asyncpg.Record, asyncpg.Record]:
        """The application's fund (locked) and its holding, read under that lock."""
        where = await self.conn.fetchrow("SELECT fiscal_year, programme FROM fund_holdings WHERE incentive_id = $1",
                                         incentive_id)
        if where is None:
            raise FundError(f"{incentive_id} holds nothing in any fund: it never reserved")
        fund = await _lock_fund(self.conn, where["fiscal_year"], where["programme"])
        holding = await self.conn.fetchrow(f"SELECT {_HOLDING} FROM fund_holdings WHERE incentive_id = $1",
                                           incentive_id)
        return fund, holding

    async def replayed(self, operation: str, incentive_id: str | None, fiscal_year: int,
                       programme: str) -> dict[str, Any] | None:
        """The first answer given under this key, if there was one (and it was for the same operation)."""
        row = await self.conn.fetchrow(
            "SELECT operation, incentive_id, fiscal_year, programme, result::text AS result FROM fund_operations "
            "WHERE key = $1", self.key)
        if row is None:
            return None
        if (row["operation"], row["incentive_id"], row["fiscal_year"], row["programme"]) != (
                operation, incentive_id, fiscal_year, programme):
            raise FundError(f"key {self.key!r} was already used to {row['operation']} "
                            f"{row['incentive_id'] or 'the fund'} ({row['programme']} {row['fiscal_year']}); "
                            "use a new key for another operation")
        return json.loads(row["result"])

    async def record(self, operation: str, incentive_id: str | None, fiscal_year: int, programme: str,
                     result: dict[str, Any]) -> None:
        await self.conn.execute(
            "INSERT INTO fund_operations (key, operation, incentive_id, fiscal_year, programme, result, at) "
            "VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7)",
            self.key, operation, incentive_id, fiscal_year, programme, json.dumps(result), self.at)

    async def entry(self, fund: asyncpg.Record, kind: str, amount_idr: int, incentive_id: str | None, *,
                    key: str | None = None, actor: str | None = None, reason: str | None = None) -> asyncpg.Record:
        """Append a ledger entry and its audit row, and move the fund's balances; returns the fund after it."""
        key, actor, reason = key or self.key, actor or self.actor, reason or self.reason
        fiscal_year, programme = fund["fiscal_year"], fund["programme"]
        after = await self.conn.fetchrow(
            f"UPDATE funds SET {_MOVES[kind]}, updated_at = $4 WHERE fiscal_year = $1 AND programme = $2 "
            f"RETURNING {_FUND}", fiscal_year, programme, amount_idr, self.at)
        await self.conn.execute(
            "INSERT INTO fund_entries (at, fiscal_year, programme, incentive_id, kind, amount_idr, actor, reason, key) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            self.at, fiscal_year, programme, incentive_id, kind, amount_idr, actor, reason, key)
        await self.audit(f"fund_{kind}", incentive_id, key, {
            "fiscal_year": fiscal_year, "programme": programme, "amount_idr": amount_idr, "reason": reason,
            "capacity_idr": after["capacity_idr"], "reserved_idr": after["reserved_idr"],
            "paid_idr": after["paid_idr"], "clawed_back_idr": after["clawed_back_idr"],
            "available_idr": _available(after),
        }, actor=actor)
        return after

    async def audit(self, action: str, incentive_id: str | None, key: str, detail: dict[str, Any], *,
                    actor: str | None = None) -> None:
        await audit.append(self.conn, at=self.at, actor=actor or self.actor, action=action,
                           application_id=incentive_id, detail=detail, source_key=f"fund:{key}")

    async def promote(self, fund: asyncpg.Record) -> tuple[asyncpg.Record, list[Promotion]]:
        """Reserve, in arrival order, for each waiting application that fits now (skipping those that do not)."""
        promotions = []
        waiting = await self.conn.fetch(
            "SELECT incentive_id, requested_idr FROM fund_holdings WHERE fiscal_year = $1 AND programme = $2 "
            "AND state = 'waitlisted' ORDER BY arrival", fund["fiscal_year"], fund["programme"])
        for row in waiting:
            incentive_id, amount = row["incentive_id"], row["requested_idr"]
            if amount > _available(fund):
                continue
            await self.conn.execute(
                "UPDATE fund_holdings SET state = 'reserved', reserved_idr = requested_idr, updated_at = $2 "
                "WHERE incentive_id = $1", incentive_id, self.at)
            fund = await self.entry(fund, "reserve", amount, incentive_id, key=f"{self.key}/promote/{incentive_id}",
                                    reason=f"promoted from the waiting list ({self.reason})")
            promotions.append(Promotion(incentive_id=incentive_id, fiscal_year=fund["fiscal_year"],
                                        programme=fund["programme"], reserved_idr=amount))
        return fund, promotions


@asynccontextmanager
async def _transaction(db: asyncpg.Pool | asyncpg.Connection, key: str, actor: str,
                       reason: str) -> AsyncIterator[_Tx]:
    for name, value in (("key", key), ("actor", actor), ("reason", reason)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"a fund operation needs a non-empty {name}, got {value!r}")
    async with acquire(db) as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", KEY_LOCK, key)
        yield _Tx(conn, key, actor, reason, dt.datetime.now(dt.UTC))


async def _lock_fund(conn: asyncpg.Connection, fiscal_year: int, programme: str) -> asyncpg.Record:
    return await conn.fetchrow(f"SELECT {_FUND} FROM funds WHERE fiscal_year = $1 AND programme = $2 FOR UPDATE",
                               fiscal_year, programme)


async def _position(conn: asyncpg.Connection, incentive_id: str) -> int:
    return await conn.fetchval(
        "SELECT count(*) FROM fund_holdings w JOIN fund_holdings h USING (fiscal_year, programme) "
        "WHERE h.incentive_id = $1 AND w.state = 'waitlisted' AND w.arrival <= h.arrival", incentive_id)


async def _waiting(conn: asyncpg.Connection, fiscal_year: int, programme: str) -> int:
    return await conn.fetchval("SELECT count(*) FROM fund_holdings WHERE fiscal_year = $1 AND programme = $2 "
                               "AND state = 'waitlisted'", fiscal_year, programme)


def _available(fund: asyncpg.Record) -> int:
    return fund["capacity_idr"] + fund["clawed_back_idr"] - fund["reserved_idr"] - fund["paid_idr"]


def _view(fund: asyncpg.Record, waitlisted: int) -> FundProgramme:
    return FundProgramme(programme=fund["programme"], capacity_idr=fund["capacity_idr"],
                         reserved_idr=fund["reserved_idr"], paid_idr=fund["paid_idr"],
                         clawed_back_idr=fund["clawed_back_idr"], available_idr=_available(fund),
                         waitlisted=waitlisted)


def _programme(programme: str) -> str:
    try:
        return Programme(programme).value
    except ValueError:
        raise FundError(f"unknown programme {programme!r}; the funds are {', '.join(p.value for p in Programme)}") \
            from None


def _positive(what: str, amount: object) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise FundError(f"{what} is a positive whole number of rupiah; got {amount!r}")


def _dump(promotions: list[Promotion]) -> list[dict[str, Any]]:
    return [p.model_dump(mode="json") for p in promotions]


def _promotions(dumped: list[dict[str, Any]]) -> list[Promotion]:
    return [Promotion.model_validate(p) for p in dumped]
