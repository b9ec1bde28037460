"""The activities the incentive workflows call, one function each, with their timeouts and retry policies.

Money moves exactly once: every call carries an idempotency key built from the incentive and the step,
and the ledger and the treasury answer a replayed key with the first result.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from schemas.contracts import (
    AGENCY_PROTOCOL_ERROR,
    AGENCY_REFUSED,
    FUND_CLAWBACK,
    FUND_PAY,
    FUND_REFUSED,
    FUND_RELEASE,
    FUND_RESERVE,
    INVALID_INPUT,
    ISSUE_CERTIFICATE,
    REQUEST_AUDIT,
    TREASURY_PAY,
)
from schemas.incentive_api import AuditReceipt, TreasuryReceipt
from schemas.incentive_contracts import (
    AuditRequestInput,
    CertificateInput,
    CertificateResult,
    FundMoveInput,
    FundMoveResult,
    FundReserveInput,
    FundReserveResult,
    TreasuryPayInput,
)
from workflows.policies import AGENCY_CALL_TIMEOUT, DOCUMENT_TIMEOUT, OUTAGE_MAX_BACKOFF, PURE_RETRY

LEDGER_TIMEOUT = timedelta(seconds=30)
# The ledger retries through database outages until it answers; a refusal (more than reserved) is final.
LEDGER_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1), non_retryable_error_types=[FUND_REFUSED])
# The treasury and the audit firm: retried through outages, for as long as it takes; a 4xx is final.
PARTY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=OUTAGE_MAX_BACKOFF,
                          non_retryable_error_types=[AGENCY_REFUSED, AGENCY_PROTOCOL_ERROR, INVALID_INPUT])


async def reserve(input: FundReserveInput) -> FundReserveResult:
    return await workflow.execute_activity(FUND_RESERVE, input, result_type=FundReserveResult,
                                           start_to_close_timeout=LEDGER_TIMEOUT, retry_policy=LEDGER_RETRY)


async def release(input: FundMoveInput) -> FundMoveResult:
    return await workflow.execute_activity(FUND_RELEASE, input, result_type=FundMoveResult,
                                           start_to_close_timeout=LEDGER_TIMEOUT, retry_policy=LEDGER_RETRY)


async def record_payment(input: FundMoveInput) -> FundMoveResult:
    return await workflow.execute_activity(FUND_PAY, input, result_type=FundMoveResult,
                                           start_to_close_timeout=LEDGER_TIMEOUT, retry_policy=LEDGER_RETRY)


async def claw_back(input: FundMoveInput) -> FundMoveResult:
    return await workflow.execute_activity(FUND_CLAWBACK, input, result_type=FundMoveResult,
                                           start_to_close_timeout=LEDGER_TIMEOUT, retry_policy=LEDGER_RETRY)


async def pay(input: TreasuryPayInput) -> TreasuryReceipt:
    return await workflow.execute_activity(TREASURY_PAY, input, result_type=TreasuryReceipt,
                                           start_to_close_timeout=AGENCY_CALL_TIMEOUT, retry_policy=PARTY_RETRY,
                                           summary=input.payment.payment_key)


async def request_audit(input: AuditRequestInput) -> AuditReceipt:
    return await workflow.execute_activity(REQUEST_AUDIT, input, result_type=AuditReceipt,
                                           start_to_close_timeout=AGENCY_CALL_TIMEOUT, retry_policy=PARTY_RETRY)


async def certificate(input: CertificateInput) -> CertificateResult:
    return await workflow.execute_activity(ISSUE_CERTIFICATE, input, result_type=CertificateResult,
                                           start_to_close_timeout=DOCUMENT_TIMEOUT, retry_policy=PURE_RETRY)

