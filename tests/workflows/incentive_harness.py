"""Test harness for the incentive workflows: an in-memory fund, treasury, audit firm and certificates as fakes.

The fund fake keeps the ledger's rules (first come first served, promotion on release, never negative)
so the workflows can be run on the time-skipping server; the real ledger is tested in tests/funds.
The linked permit is a stand-in workflow that records who linked; tests tell the incentive of
photography by signal, as the permit workflow does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain import calendar
from domain.incentive_rules import load_incentive_rules
from schemas.contracts import (
    COMPUTE_BUSINESS_DEADLINE,
    FUND_CLAWBACK,
    FUND_PAY,
    FUND_REFUSED,
    FUND_RELEASE,
    FUND_RESERVE,
    ISSUE_CERTIFICATE,
    NOTIFY,
    QUERY_STATUS,
    RECORD_INCENTIVE,
    REQUEST_AUDIT,
    SIGNAL_AUDIT_DECISION,
    SIGNAL_PERMIT_EVENT,
    TREASURY_PAY,
    BusinessDeadlineInput,
    Notification,
    Notifications,
)
from schemas.incentive_api import AuditDecision, AuditReceipt, TreasuryReceipt
from schemas.incentive_contracts import (
    AuditRequestInput,
    CertificateInput,
    CertificateResult,
    FundMoveInput,
    FundMoveResult,
    FundPromotion,
    FundReserveInput,
    FundReserveResult,
    IncentiveProjectionInput,
    IncentiveWorkflowInput,
    PermitEvent,
    PermitEventKind,
    TreasuryPayInput,
)
from schemas.incentives import CertificateInfo, IncentiveApplication, IncentiveRules, IncentiveStatusView, PermitFacts
from config.settings import PACKAGED_DATA
from workers.logic_flags import with_single_batch_activations
from workers.sandbox import workflow_runner
from workflows.feature_call import FeatureCallWorkflow
from workflows.incentive import IncentiveApplicationWorkflow
from permit_standin import StandInPermit

RULES: IncentiveRules = load_incentive_rules(PACKAGED_DATA / "incentives.toml", "http://parties.test")
ORGANISATION = "ORG-CONTOH"


@dataclass
class Holding:
    fiscal_year: int
    programme: str
    reserved: int = 0
    paid: int = 0
    clawed_back: int = 0
    waiting: int | None = None  # the amount it waits for


@dataclass
class FakeParties:
    """The fund, the treasury, the audit firm, certificates, notifications and the read model, in memory."""

    capacity: dict[tuple[int, str], int] = field(default_factory=dict)
    holdings: dict[str, Holding] = field(default_factory=dict)
    waitlist: list[str] = field(default_factory=list)
    ledger: list[tuple[str, str, int, str]] = field(default_factory=list)  # (kind, incentive, amount, key)
    keys: dict[str, Any] = field(default_factory=dict)
    payments: dict[str, TreasuryReceipt] = field(default_factory=dict)
    payment_attempts: dict[str, int] = field(default_factory=dict)
    treasury_down_until: dt.datetime | None = None
    lose_first_payment_answer: bool = False
    audits: dict[str, AuditRequestInput] = field(default_factory=dict)
    certificates: list[CertificateInput] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    projections: dict[int, IncentiveStatusView] = field(default_factory=dict)

    # -- the fund (the ledger's rules, in memory) --

    def available(self, fiscal_year: int, programme: str) -> int:
        used = sum(h.reserved + h.paid - h.clawed_back for h in self.holdings.values()
                   if (h.fiscal_year, h.programme) == (fiscal_year, programme))
        return self.capacity.get((fiscal_year, programme), 0) - used

    def _promote(self, fiscal_year: int, programme: str) -> list[FundPromotion]:
        promoted = []
        for incentive_id in list(self.waitlist):
            h = self.holdings[incentive_id]
            if (h.fiscal_year, h.programme) == (fiscal_year, programme) and h.waiting is not None \
                    and h.waiting <= self.available(fiscal_year, programme):
                h.reserved, h.waiting = h.waiting, None
                self.waitlist.remove(incentive_id)
                self.ledger.append(("reserve", incentive_id, h.reserved, "promotion"))
                promoted.append(FundPromotion(incentive_id=incentive_id, reserved_idr=h.reserved))
        return promoted

    @activity.defn(name=FUND_RESERVE)
    async def reserve(self, input: FundReserveInput) -> FundReserveResult:
        if input.key in self.keys:
            return self.keys[input.key]
        self.capacity.setdefault((input.fiscal_year, input.programme), input.default_capacity_idr)
        h = Holding(input.fiscal_year, input.programme)
        self.holdings[input.incentive_id] = h
        if input.amount_idr <= self.available(input.fiscal_year, input.programme):
            h.reserved = input.amount_idr
            self.ledger.append(("reserve", input.incentive_id, input.amount_idr, input.key))
            result = FundReserveResult(state="reserved", reserved_idr=input.amount_idr)
        else:
            h.waiting = input.amount_idr
            self.waitlist.append(input.incentive_id)
            result = FundReserveResult(state="waitlisted", position=len(self.waitlist))
        self.keys[input.key] = result
        return result

    @activity.defn(name=FUND_RELEASE)
    async def release(self, input: FundMoveInput) -> FundMoveResult:
        if input.key in self.keys:
            return self.keys[input.key]
        h = self.holdings.get(input.incentive_id)
        amount = 0
        if h is not None:
            if input.incentive_id in self.waitlist:
                self.waitlist.remove(input.incentive_id)
                h.waiting = None
            amount = h.reserved if input.amount_idr is None else input.amount_idr
            h.reserved -= amount
            if amount:
                self.ledger.append(("release", input.incentive_id, amount, input.key))
        result = FundMoveResult(amount_idr=amount,
                                promotions=self._promote(h.fiscal_year, h.programme) if h else [])
        self.keys[input.key] = result
        return result

    @activity.defn(name=FUND_PAY)
    async def pay(self, input: FundMoveInput) -> FundMoveResult:
        if input.key in self.keys:
            return self.keys[input.key]
        h = self.holdings[input.incentive_id]
        assert input.amount_idr is not None
        if input.amount_idr > h.reserved:
            raise ApplicationError(f"pay {input.amount_idr} > reserved {h.reserved}", type=FUND_REFUSED,
                                   non_retryable=True)
        h.reserved -= input.amount_idr
        h.paid += input.amount_idr
        self.ledger.append(("pay", input.incentive_id, input.amount_idr, input.key))
        self.keys[input.key] = result = FundMoveResult(amount_idr=input.amount_idr)
        return result

    @activity.defn(name=FUND_CLAWBACK)
    async def clawback(self, input: FundMoveInput) -> FundMoveResult:
        if input.key in self.keys:
            return self.keys[input.key]
        h = self.holdings[input.incentive_id]
        assert input.amount_idr is not None and input.amount_idr <= h.paid - h.clawed_back
        h.clawed_back += input.amount_idr
        self.ledger.append(("clawback", input.incentive_id, input.amount_idr, input.key))
        self.keys[input.key] = result = FundMoveResult(
            amount_idr=input.amount_idr, promotions=self._promote(h.fiscal_year, h.programme))
        return result

    # -- the treasury and the audit firm --

    @activity.defn(name=TREASURY_PAY)
    async def treasury_pay(self, input: TreasuryPayInput) -> TreasuryReceipt:
        key = input.payment.payment_key
        now = activity.info().current_attempt_scheduled_time
        self.payment_attempts[key] = self.payment_attempts.get(key, 0) + 1
        if self.treasury_down_until is not None and now < self.treasury_down_until:
            raise ApplicationError("treasury: 503 Service Unavailable", type="AgencyUnavailable")
        if key not in self.payments:
            self.payments[key] = TreasuryReceipt(payment_key=key, reference=f"TRX-{len(self.payments) + 1:04d}",
                                                 amount_idr=input.payment.amount_idr, paid_at=now)
            if self.lose_first_payment_answer:  # paid, but the answer never came back
                self.lose_first_payment_answer = False
                raise ApplicationError("treasury: connection reset", type="AgencyUnavailable")
        return self.payments[key]

    @activity.defn(name=REQUEST_AUDIT)
    async def request_audit(self, input: AuditRequestInput) -> AuditReceipt:
        self.audits[input.request.request_key] = input
        return AuditReceipt(reference=f"AUD-{input.request.request_key.rsplit(':', 1)[1]}")

    # -- the rest --

    @activity.defn(name=ISSUE_CERTIFICATE)
    async def certificate(self, input: CertificateInput) -> CertificateResult:
        self.certificates.append(input)
        number = f"JFC-INC-TEST-{input.kind.value}"
        return CertificateResult(sha256="0" * 64, certificate=CertificateInfo(
            kind=input.kind, number=number, issued_at=input.issued_at, document_url="https://jfc.test/doc",
            verify_url=f"https://jfc.test/v1/verify/{number}"))

    @activity.defn(name=COMPUTE_BUSINESS_DEADLINE)
    async def business_deadline(self, input: BusinessDeadlineInput) -> dt.datetime:
        return calendar.business_deadline(input.start, input.business_days)

    @activity.defn(name=NOTIFY)
    async def notify(self, input: Notifications) -> None:
        self.notifications.extend(input.items)

    @activity.defn(name=RECORD_INCENTIVE)
    async def record(self, input: IncentiveProjectionInput) -> bool:
        self.projections[input.seq] = input.view
        return True

    def activities(self) -> list[Callable[..., Any]]:
        return [self.reserve, self.release, self.pay, self.clawback, self.treasury_pay, self.request_audit,
                self.certificate, self.business_deadline, self.notify, self.record]

    def kinds(self, audience: str | None = None) -> list[str]:
        return [n.kind for n in self.notifications if audience is None or n.audience == audience]


def rebate_application(**changes: Any) -> IncentiveApplication:
    body = {"programme": "location_rebate", "permit_id": "PRM-AAAAAAAAAAAA", "fiscal_year": 2027,
            "planned_jakarta_spend_idr": 8_000_000_000, "planned_post_production_idr": 1_000_000_000,
            "crew_total": 40, "crew_indonesian": 30}
    return IncentiveApplication.model_validate({**body, **changes})


def permit_facts(first: dt.date, days: int = 6, organisation_id: str = ORGANISATION) -> PermitFacts:
    return PermitFacts(permit_id="PRM-AAAAAAAAAAAA", organisation_id=organisation_id, status="issued",
                       production_title="Senja di Kota", production_kind="feature_film",
                       applicant_company="PT Contoh Film",
                       shoot_dates=[first + dt.timedelta(days=i) for i in range(days)])


@dataclass
class IncentiveRun:
    env: WorkflowEnvironment
    parties: FakeParties
    handle: WorkflowHandle
    incentive_id: str
    permit_id: str

    async def status(self) -> IncentiveStatusView:
        return await self.handle.query(QUERY_STATUS, result_type=IncentiveStatusView)

    async def until(self, pred: Callable[[IncentiveStatusView], bool], what: str, timeout: float = 5.0
                    ) -> IncentiveStatusView:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            view = await self.status()
            if pred(view):
                return view
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what}; status {view.status}, timeline "
                                     f"{[e.event for e in view.timeline]}")
            await asyncio.sleep(0.03)

    async def skip_to(self, moment: dt.datetime) -> None:
        now = await self.env.get_current_time()
        if moment > now:
            await self.env.sleep(moment - now)

    async def permit_says(self, kind: PermitEventKind, status: str = "issued") -> None:
        await self.handle.signal(SIGNAL_PERMIT_EVENT, PermitEvent(
            permit_id=self.permit_id, kind=kind, at=await self.env.get_current_time(), status=status, shoot_dates=[]))

    async def audited(self, qualifying: int, post_production: int, round_: int = 1) -> None:
        await self.handle.signal(SIGNAL_AUDIT_DECISION, AuditDecision(
            decision_id=f"AUD-DEC-{round_}", reference=f"AUD-{round_}", request_key=f"{self.incentive_id}:audit:{round_}",
            qualifying_idr=qualifying, post_production_idr=post_production, decided_at=await self.env.get_current_time()))


async def start(env: WorkflowEnvironment, task_queue: str, application: IncentiveApplication,
                permit: PermitFacts | None, parties: FakeParties, *, rules: IncentiveRules = RULES,
                incentive_id: str | None = None) -> IncentiveRun:
    """Start one incentive workflow (on a worker already running with `parties`)."""
    incentive_id = incentive_id or f"INC-{uuid.uuid4().hex[:12].upper()}"
    handle = await env.client.start_workflow(
        IncentiveApplicationWorkflow.run,
        IncentiveWorkflowInput(
            incentive_id=incentive_id, application=application, programme=rules.get(application.programme.value),
            organisation_id=ORGANISATION, submitted_at=await env.get_current_time(), permit=permit,
            callback_base_url="https://api.jfc.test", public_base_url="https://jfc.test",
            audit=rules.audit, treasury=rules.treasury),
        id=incentive_id, task_queue=task_queue)
    return IncentiveRun(env, parties, handle, incentive_id, application.permit_id)


@asynccontextmanager
async def running(env: WorkflowEnvironment, task_queue: str, application: IncentiveApplication,
                  permit: PermitFacts | None, *, parties: FakeParties | None = None, rules: IncentiveRules = RULES,
                  max_cached_workflows: int = 1000):
    """A worker with the fakes and the stand-in permit, and a started incentive workflow."""
    parties = parties or FakeParties()
    async with with_single_batch_activations(Worker(
            env.client, task_queue=task_queue, activities=parties.activities(),
            workflows=[IncentiveApplicationWorkflow, FeatureCallWorkflow, StandInPermit],
            max_cached_workflows=max_cached_workflows,
            workflow_runner=workflow_runner([IncentiveApplicationWorkflow, FeatureCallWorkflow]))):
        await env.client.start_workflow(StandInPermit.run, id=f"{application.permit_id}", task_queue=task_queue,
                                        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
        yield await start(env, task_queue, application, permit, parties, rules=rules)
