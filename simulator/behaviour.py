"""How a simulated agency (or the audit firm, or the treasury) behaves, the admin payloads, and the decisions it makes."""

from __future__ import annotations

import datetime as dt
import random
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.agency_api import AgencyRequestState
from schemas.catalog import DeliveryMode
from schemas.decisions import Outcome
from schemas.incentive_api import AuditState

MAX_DELAY_MS = 30 * 24 * 3600 * 1000


class Decision(StrEnum):
    """What the agency decides about requests it receives.

    The audit firm reads them as audits of every claim line, where only lines in Jakarta qualify:
    `approve` a clean audit; `conditions` an adjusted audit (10% of the qualifying spend, rounded
    down, is also disallowed, with a note); `silent` never decides; `reject` and `information`
    give a clean audit. The treasury pays at once and ignores `decision`, `decision_delay_ms` and `mode`.
    """

    approve = "approve"
    conditions = "conditions"
    reject = "reject"
    information = "information"
    silent = "silent"


class Admin(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Behaviour(Admin):
    """One agency's behaviour; the defaults are a healthy, prompt agency."""

    latency_ms: int = Field(default=0, ge=0, le=120_000)
    error_rate: float = Field(default=0.0, ge=0, le=1, description="Share of calls answered 503 before processing")
    lost_response_rate: float = Field(default=0.0, ge=0, le=1, description="Share processed, then answered 503")
    mode: DeliveryMode = DeliveryMode.webhook
    decision: Decision = Decision.approve
    decision_delay_ms: int = Field(default=1000, ge=0, le=MAX_DELAY_MS)


class BehaviourUpdate(Admin):
    """Body of `PUT /admin/agencies/{code}`: only the fields given (and not null) change."""

    latency_ms: int | None = Field(default=None, ge=0, le=120_000)
    error_rate: float | None = Field(default=None, ge=0, le=1)
    lost_response_rate: float | None = Field(default=None, ge=0, le=1)
    mode: DeliveryMode | None = None
    decision: Decision | None = None
    decision_delay_ms: int | None = Field(default=None, ge=0, le=MAX_DELAY_MS)

    def apply(self, current: Behaviour) -> Behaviour:
        return current.model_copy(update=self.model_dump(exclude_none=True))


class OutageOrder(Admin):
    seconds: float = Field(gt=0, le=7 * 24 * 3600)


class ManualDecision(Admin):
    """Body of `POST /admin/agencies/{code}/requests/{reference}/decision`."""

    status: Outcome
    conditions: list[str] = Field(default_factory=list)
    reason: str | None = Field(default=None, max_length=2000)


class ManualAudit(Admin):
    """Body of `POST /admin/agencies/audit/requests/{reference}/decision`: the auditor's own figures."""

    qualifying_idr: int = Field(ge=0, description="Audited qualifying Jakarta spend, post-production included")
    post_production_idr: int = Field(default=0, ge=0, description="Of which post-production")
    notes: list[str] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _post_production_within_qualifying(self) -> ManualAudit:
        if self.post_production_idr > self.qualifying_idr:
            raise ValueError("post_production_idr is part of qualifying_idr, so it cannot be larger")
        return self


class PaymentOrder(Admin):
    """Body of `POST /admin/payments`: what the bank is told the applicant paid."""

    permit_id: str = Field(min_length=1, max_length=200)
    amount_idr: int = Field(gt=0)
    callback_url: str | None = Field(default=None, pattern=r"^https?://")


class PaymentResult(BaseModel):
    payment_id: str
    delivered: bool
    api_status: int = Field(description="HTTP status our API answered; 0 when it could not be reached")


class RequestSummary(BaseModel):
    """One entry of `GET /admin/agencies/{code}/requests` (one per Idempotency-Key)."""

    idempotency_key: str
    reference: str
    received_at: dt.datetime
    times_seen: int
    status: AgencyRequestState


class AuditSummary(BaseModel):
    """One entry of `GET /admin/agencies/audit/requests` (one per Idempotency-Key)."""

    idempotency_key: str
    reference: str
    received_at: dt.datetime
    times_seen: int
    status: AuditState


class PaymentSummary(BaseModel):
    """One entry of `GET /admin/agencies/treasury/requests`: a payment made (once per payment_key)."""

    idempotency_key: str
    reference: str
    received_at: dt.datetime
    times_seen: int
    status: Literal["paid"] = "paid"
    amount_idr: int
    incentive_id: str
    tranche: int


CONDITIONS: dict[str, list[str]] = {
    "parks": [
        "No vehicles on the lawn",
        "Crew stays on paved paths; no trampling of flower beds",
        "Park stays open to the public; keep walkways clear",
        "Site cleaned and restored by 20:00 each day",
    ],
    "heritage": [
        "Nothing fixed, taped or nailed to historic facades",
        "A heritage officer is present during set-up and wrap",
        "Light stands on rubber feet; no smoke machines indoors",
        "At most 30 crew inside the museum building at a time",
    ],
    "district": [
        "Residents within 100 m notified in writing 3 days before the shoot",
        "RT/RW heads informed before the first shoot day",
        "No generators running after 22:00",
        "Pedestrian passage kept open at all times",
    ],
    "transport": [
        "Traffic management plan signed by Dishub before filming",
        "Production vehicles park only in the bays on the approved plan",
        "Lane closures only between 09:00 and 15:00",
        "Dishub officers on site at the production's expense",
    ],
    "police": [
        "Traffic officers on site from 05:00",
        "Prop weapons kept in a locked case under a licensed armourer",
        "Crowd marshals at every access point",
        "The izin keramaian is displayed on site",
    ],
    "fire": [
        "Fire truck on standby during effects",
        "A licensed pyrotechnician is in charge of every effect",
        "Fire extinguishers within 10 m of every effect",
        "No open flame within 20 m of fuel storage",
    ],
    "aviation": [
        "Drone flights below 120 m above ground only",
        "No flights over crowds or moving traffic",
        "A certified remote pilot is at the controls",
        "Flights only between 07:00 and 17:00",
    ],
    "transit": [
        "No filming during peak hours (06:00-09:00 and 16:00-19:00)",
        "Platform edges and tactile paving kept clear of equipment",
        "A station safety officer accompanies the crew",
        "Ticket gates are never obstructed",
    ],
    "culture_ministry": [
        "Every foreign crew member holds a visa valid for film work",
        "An Indonesian liaison officer accompanies the production",
        "A copy of the final cut is submitted within 30 days of release",
    ],
}
_DEFAULT_CONDITIONS = ["Permit and ID cards carried by the crew on site", "Site left as it was found"]

REJECTIONS: dict[str, str] = {
    "parks": "The park is closed for replanting on the requested dates",
    "heritage": "The requested rooms hold fragile collections; filming inside is not allowed",
    "district": "A community event already holds the public space on those dates",
    "transport": "A full closure of this road at the requested hours would block a main artery",
    "police": "Security resources are committed to a state event on the requested dates",
    "fire": "The effects are too close to residential buildings",
    "aviation": "The location lies inside restricted airspace",
    "transit": "Station works are scheduled on the requested dates",
    "culture_ministry": "The local partner is not registered as a production services company",
}
QUESTIONS: dict[str, str] = {
    "parks": "How many vehicles will enter the park, and where will they park?",
    "heritage": "Please send the lighting plan and the list of equipment brought inside.",
    "district": "Please confirm how residents will be notified, and when.",
    "transport": "Please send a traffic management plan with the closure hours.",
    "police": "Please send the names of the security coordinator and the armourer.",
    "fire": "Please describe each effect: fuel, quantity and distance to the public.",
    "aviation": "Please send the drone's registration and the remote pilot's certificate.",
    "transit": "How many crew will be on the platform at once, and for how long?",
    "culture_ministry": "Please send the sponsor letter from the local partner.",
}


def realistic_conditions(agency: str, rng: random.Random) -> list[str]:
    """One to three conditions this agency would typically set."""
    pool = CONDITIONS.get(agency, _DEFAULT_CONDITIONS)
    return rng.sample(pool, k=rng.randint(1, min(3, len(pool))))


def rejection_reason(agency: str) -> str:
    return REJECTIONS.get(agency, "The request does not meet the agency's requirements")


def question(agency: str) -> str:
    return QUESTIONS.get(agency, "Please send more details about the shoot.")


def outcome_for(decision: Decision, agency: str, rng: random.Random) -> tuple[Outcome, list[str], str | None] | None:
    """The (status, conditions, reason) an automatic `decision` yields; None when the agency stays silent."""
    match decision:
        case Decision.approve:
            return Outcome.approved, [], None
        case Decision.conditions:
            return Outcome.approved_with_conditions, realistic_conditions(agency, rng), None
        case Decision.reject:
            return Outcome.rejected, [], rejection_reason(agency)
        case Decision.information:
            return Outcome.information_required, [], question(agency)
        case Decision.silent:
            return None


def complete_manual(order: ManualDecision, agency: str, rng: random.Random) -> tuple[Outcome, list[str], str | None]:
    """A manual decision, with realistic conditions or a reason filled in where the operator gave none."""
    conditions, reason = list(order.conditions), order.reason
    if order.status == Outcome.approved_with_conditions and not conditions:
        conditions = realistic_conditions(agency, rng)
    if order.status == Outcome.rejected and not reason:
        reason = rejection_reason(agency)
    if order.status == Outcome.information_required and not reason:
        reason = question(agency)
    return order.status, conditions, reason
