"""The agencies' side of a clearance: receive, decide (on a timer or by hand), withdraw, take answers.

The simulator also plays the audit firm (`simulator.audit`) and the treasury (`simulator.treasury`),
two parties always present beside the catalog's agencies, with the same behaviours and outages.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import time
import uuid

import structlog

from schemas.agency_api import AgencyRequestState, ClearanceRequest, InformationReply
from schemas.catalog import DeliveryMode
from schemas.decisions import AgencyDecision, Outcome, Payment
from simulator.audit import AUDIT, AuditFirm
from simulator.behaviour import Behaviour, BehaviourUpdate, Decision, ManualDecision, PaymentOrder, PaymentResult
from simulator.behaviour import complete_manual, outcome_for
from simulator.delivery import Deliverer
from simulator.store import Store, StoredRequest
from simulator.timers import Timers
from simulator.treasury import TREASURY, Treasury

log = structlog.get_logger(__name__)

PAYMENTS_SECRET_REF = "payments"
PARTIES = (AUDIT, TREASURY)


class Simulator:
    """Every simulated agency, the audit firm, the treasury and the payment provider, over one store.

    `modes` maps the catalog's agency codes (and optionally the parties) to "webhook" or "poll".
    """

    def __init__(
        self, store: Store, deliverer: Deliverer, modes: dict[str, str], api_url: str, rng: random.Random | None = None
    ) -> None:
        self.store = store
        self.deliverer = deliverer
        self.modes = {**modes, **{party: modes.get(party, DeliveryMode.webhook.value) for party in PARTIES}}
        self.api_url = api_url.rstrip("/")
        self.rng = rng or random.Random()
        self.audit = AuditFirm(store, deliverer, self.behaviour)
        self.treasury = Treasury(store)
        self._timers = Timers()

    @property
    def codes(self) -> list[str]:
        """Every code with admin controls: the catalog's agencies, then the audit firm and the treasury."""
        return list(self.modes)

    @property
    def agencies(self) -> list[str]:
        """The catalog's agencies (they take clearance requests)."""
        return [code for code in self.modes if code not in PARTIES]

    # ---- lifecycle -----------------------------------------------------------------

    async def resume(self) -> None:
        """After a (re)start: re-arm pending decisions and pending webhooks."""
        for request in await self.store.pending_decisions():
            if request.agency in self.agencies:
                self._arm(request.agency, request.reference, request.decide_at or time.time())
        await self.audit.resume()
        await self.deliverer.resume()

    async def close(self) -> None:
        await self._timers.cancel_all()
        await self.audit.close()
        await self.deliverer.close()

    async def reset(self) -> None:
        await self.close()
        await self.store.reset()

    # ---- behaviour -----------------------------------------------------------------

    async def behaviour(self, code: str) -> Behaviour:
        stored = await self.store.behaviour(code)
        if stored is not None:
            return Behaviour.model_validate(stored)
        return Behaviour(mode=DeliveryMode(self.modes.get(code, DeliveryMode.webhook)))

    async def update_behaviour(self, code: str, update: BehaviourUpdate) -> Behaviour:
        behaviour = update.apply(await self.behaviour(code))
        await self.store.set_behaviour(code, behaviour.model_dump(mode="json"))
        log.info("agency.behaviour", agency=code, **update.model_dump(mode="json", exclude_none=True))
        return behaviour

    # ---- the agency API ------------------------------------------------------------

    async def receive(self, code: str, key: str, request: ClearanceRequest) -> tuple[StoredRequest, bool]:
        """Take a clearance request; the same key always yields the same stored request."""
        behaviour = await self.behaviour(code)
        silent = behaviour.decision == Decision.silent
        decide_at = None if silent else time.time() + behaviour.decision_delay_ms / 1000
        reference = f"{code.upper().replace('_', '')}-{dt.datetime.now(dt.UTC):%Y}-{secrets.token_hex(5).upper()}"
        stored, created = await self.store.receive(
            code, key, reference, request.model_dump_json(), request.callback_url, behaviour.decision.value, decide_at
        )
        if created and decide_at is not None:
            self._arm(code, stored.reference, decide_at)
        log.info(
            "agency.request", agency=code, reference=stored.reference, created=created, times_seen=stored.times_seen
        )
        return stored, created

    async def withdraw(self, code: str, reference: str) -> StoredRequest | None:
        self._disarm(code, reference)
        stored = await self.store.withdraw(code, reference)
        if stored:
            log.info("agency.withdrawn", agency=code, reference=reference)
        return stored

    async def answer(self, code: str, reference: str, key: str, reply: InformationReply) -> StoredRequest | None:
        """Record an answer; a request waiting for information is decided again (approved) after the delay."""
        behaviour = await self.behaviour(code)
        decide_at = time.time() + behaviour.decision_delay_ms / 1000
        stored, reopened = await self.store.answer(code, reference, key, reply.request_id, reply.answer, decide_at)
        if reopened:
            self._arm(code, reference, decide_at)
        log.info("agency.answer", agency=code, reference=reference, reopened=reopened)
        return stored

    async def decide_manually(self, code: str, request: StoredRequest, order: ManualDecision) -> StoredRequest | None:
        """An operator's decision; None when the request was withdrawn."""
        self._disarm(code, request.reference)
        status, conditions, reason = complete_manual(order, code, self.rng)
        return await self._record(request, status, conditions, reason, only_if_received=False)

    # ---- payments ------------------------------------------------------------------

    async def pay(self, order: PaymentOrder) -> PaymentResult:
        """Play the bank: send the signed payment webhook to our API."""
        payment = Payment(
            payment_id=f"PAY-{uuid.uuid4().hex[:16].upper()}",
            permit_id=order.permit_id,
            amount_idr=order.amount_idr,
            paid_at=dt.datetime.now(dt.UTC),
        )
        url = order.callback_url or f"{self.api_url}/v1/payments/webhook"
        body = payment.model_dump_json()
        status, delivered = await self.deliverer.send_now("payment", url, body, PAYMENTS_SECRET_REF)
        log.info("payment.sent", payment_id=payment.payment_id, permit_id=order.permit_id, status=status)
        return PaymentResult(payment_id=payment.payment_id, delivered=delivered, api_status=status)

    # ---- decisions -----------------------------------------------------------------

    def _arm(self, code: str, reference: str, at: float) -> None:
        self._timers.arm((code, reference), at, lambda: self._decide(code, reference))

    def _disarm(self, code: str, reference: str) -> None:
        self._timers.disarm((code, reference))

    async def _decide(self, code: str, reference: str) -> None:
        try:
            request = await self.store.get(code, reference)
            if request is None or request.status != AgencyRequestState.received:
                return
            planned = outcome_for(Decision(request.planned), code, self.rng)
            if planned is not None:
                await self._record(request, *planned, only_if_received=True)
        except Exception:
            log.exception("agency.decision_failed", agency=code, reference=reference)

    async def _record(
        self,
        request: StoredRequest,
        status: Outcome,
        conditions: list[str],
        reason: str | None,
        *,
        only_if_received: bool,
    ) -> StoredRequest | None:
        """Store a decision; in webhook mode, with its signed delivery to the request's callback_url."""
        decision = AgencyDecision(
            decision_id=f"DEC-{uuid.uuid4().hex}",
            reference=request.reference,
            request_key=request.idempotency_key,
            status=status,
            conditions=conditions,
            reason=reason,
            decided_at=dt.datetime.now(dt.UTC),
        )
        webhook = (await self.behaviour(request.agency)).mode == DeliveryMode.webhook
        delivery = (request.callback_url, decision.model_dump_json(), request.agency) if webhook else None
        stored = await self.store.decide(
            request,
            status.value,
            conditions,
            reason,
            decision.decision_id,
            decision.decided_at.isoformat(),
            only_if_received=only_if_received,
            delivery=delivery,
        )
        if stored is None:
            return None
        log.info(
            "agency.decided", agency=request.agency, reference=request.reference, status=status.value, webhook=webhook
        )
        if webhook:
            await self.deliverer.resume()
        return stored
