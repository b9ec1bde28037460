"""Activities of the incentive engine: the fund ledger, the treasury, the audit firm, and the read model.

Each is idempotent by the key the workflow gives it: the ledger and the treasury answer a replayed key
with the first result, so a retry never moves money twice.
"""

from __future__ import annotations

import asyncpg
import httpx
import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.parties import Party, PartyClient, parse, protocol_error
from activities.records import DATABASE_DOWN, REFUSED_FOR_GOOD, refused_for_good, written
from schemas.contracts import (
    FUND_CLAWBACK,
    FUND_PAY,
    FUND_REFUSED,
    FUND_RELEASE,
    FUND_RESERVE,
    READ_MODEL_UNAVAILABLE,
    RECORD_INCENTIVE,
    REQUEST_AUDIT,
    TREASURY_PAY,
)
from schemas.incentive_api import AuditReceipt, TreasuryReceipt
from schemas.incentive_contracts import (
    AuditRequestInput,
    FundMoveInput,
    FundMoveResult,
    FundPromotion,
    FundReserveInput,
    FundReserveResult,
    IncentiveProjectionInput,
    TreasuryPayInput,
)
from schemas.incentives import ExternalParty
from store import funds

_log = structlog.get_logger("jfc.incentives")


def _party(name: str, party: ExternalParty) -> Party:
    return Party(name, party.base_url, party.calls_per_second)


def _refused(err: funds.FundError) -> ApplicationError:
    return ApplicationError(str(err), type=FUND_REFUSED, non_retryable=True)


def _down(err: BaseException) -> ApplicationError:
    return ApplicationError(f"the fund ledger is unavailable ({type(err).__name__}); retrying",
                            type=READ_MODEL_UNAVAILABLE)


def _promotions(promotions) -> list[FundPromotion]:
    return [FundPromotion(incentive_id=p.incentive_id, reserved_idr=p.reserved_idr) for p in promotions]


class FundActivities:
    """The ledger moves of the workflows: reserve, release, pay, claw back (store.funds does the accounting)."""

    def __init__(self, pool: asyncpg.Pool | None) -> None:
        self._pool = pool

    def _db(self) -> asyncpg.Pool:
        if self._pool is None:
            raise ApplicationError("the fund ledger is not configured on this worker (no database pool)",
                                   type=READ_MODEL_UNAVAILABLE)
        return self._pool

    @activity.defn(name=FUND_RESERVE)
    async def fund_reserve(self, input: FundReserveInput) -> FundReserveResult:
        try:
            result = await funds.reserve(
                self._db(), input.fiscal_year, input.programme, input.incentive_id, input.amount_idr, key=input.key,
                actor=input.actor, reason=input.reason, default_capacity_idr=input.default_capacity_idr)
        except funds.FundError as err:
            raise _refused(err) from None
        except DATABASE_DOWN as err:
            raise _down(err) from None
        _log.info("fund_reserve", application_id=input.incentive_id, state=result.state)
        return FundReserveResult(state=result.state, reserved_idr=result.reserved_idr, position=result.position)

    @activity.defn(name=FUND_RELEASE)
    async def fund_release(self, input: FundMoveInput) -> FundMoveResult:
        """Release what the incentive holds; one that never reached the fund (a call's unranked entry) holds nothing."""
        try:
            if input.amount_idr is None and await funds.position(self._db(), input.incentive_id) is None:
                return FundMoveResult(amount_idr=0)
            released, promotions = await funds.release(self._db(), input.incentive_id, input.amount_idr,
                                                       key=input.key, actor=input.actor, reason=input.reason)
        except funds.FundError as err:
            raise _refused(err) from None
        except DATABASE_DOWN as err:
            raise _down(err) from None
        _log.info("fund_release", application_id=input.incentive_id, released_idr=released,
                  promoted=[p.incentive_id for p in promotions])
        return FundMoveResult(amount_idr=released, promotions=_promotions(promotions))

    @activity.defn(name=FUND_PAY)
    async def fund_pay(self, input: FundMoveInput) -> FundMoveResult:
        assert input.amount_idr is not None
        try:
            paid = await funds.pay(self._db(), input.incentive_id, input.amount_idr, key=input.key,
                                   actor=input.actor, reason=input.reason)
        except funds.FundError as err:
            raise _refused(err) from None
        except DATABASE_DOWN as err:
            raise _down(err) from None
        return FundMoveResult(amount_idr=paid)

    @activity.defn(name=FUND_CLAWBACK)
    async def fund_clawback(self, input: FundMoveInput) -> FundMoveResult:
        assert input.amount_idr is not None
        try:
            amount, promotions = await funds.clawback(self._db(), input.incentive_id, input.amount_idr,
                                                      key=input.key, actor=input.actor, reason=input.reason)
        except funds.FundError as err:
            raise _refused(err) from None
        except DATABASE_DOWN as err:
            raise _down(err) from None
        return FundMoveResult(amount_idr=amount, promotions=_promotions(promotions))


class PartyActivities:
    """The treasury's payments and the audit firm's requests, each with its idempotency key."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._client = PartyClient(http)

    @activity.defn(name=TREASURY_PAY)
    async def treasury_pay(self, input: TreasuryPayInput) -> TreasuryReceipt:
        """Pay one tranche; the payment key makes a retry (after a lost answer) the same payment, never a second."""
        party, payment = _party("treasury", input.party), input.payment
        response = await self._client.call(party, "POST", "/v1/payments", payment.incentive_id,
                                           idempotency_key=payment.payment_key, body=payment.model_dump(mode="json"))
        receipt = parse(TreasuryReceipt, response, party)
        if receipt.payment_key != payment.payment_key or receipt.amount_idr != payment.amount_idr:
            raise protocol_error(party, response, f"a receipt for {receipt.payment_key} of {receipt.amount_idr} IDR")
        return receipt

    @activity.defn(name=REQUEST_AUDIT)
    async def request_audit(self, input: AuditRequestInput) -> AuditReceipt:
        party, request = _party("audit", input.party), input.request
        response = await self._client.call(party, "POST", "/v1/audit-requests", request.incentive_id,
                                           idempotency_key=request.request_key, body=request.model_dump(mode="json"))
        return parse(AuditReceipt, response, party)


class IncentiveRecordActivities:
    """Writes incentive status views into the read model (store.incentive_projections)."""

    def __init__(self, pool: asyncpg.Pool | None) -> None:
        self._pool = pool

    @activity.defn(name=RECORD_INCENTIVE)
    async def record_incentive(self, input: IncentiveProjectionInput) -> bool:
        from store.incentive_projections import project_incentive

        if self._pool is None:
            raise ApplicationError("read model not configured on this worker", type=READ_MODEL_UNAVAILABLE)
        try:
            was_written = await project_incentive(self._pool, input.workflow_id, input.seq, input.view)
            await written(self._pool, input.workflow_id, input.seq)
        except DATABASE_DOWN as err:
            raise _down(err) from None
        except REFUSED_FOR_GOOD as err:
            raise await refused_for_good(self._pool, input.workflow_id, input.seq, err, _log) from None
        return was_written
