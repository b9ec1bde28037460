"""Production incentives (design §4): the programmes' rule data, what an applicant sends, and what anyone reads.

Amounts are whole rupiah (int); every rounding is down.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from schemas.application import Strict
from schemas.status import TimelineEvent


class Programme(StrEnum):
    location_rebate = "location_rebate"
    shooting_days_grant = "shooting_days_grant"
    first_feature_fund = "first_feature_fund"


class IncentiveStatus(StrEnum):
    submitted = "submitted"
    ineligible = "ineligible"
    reserved = "reserved"
    waitlisted = "waitlisted"
    awaiting_photography = "awaiting_photography"
    claim_due = "claim_due"
    under_audit = "under_audit"
    committee = "committee"
    returned = "returned"
    paying = "paying"
    clawback_window = "clawback_window"
    completed = "completed"
    rejected = "rejected"
    withdrawn = "withdrawn"
    lapsed = "lapsed"
    expired = "expired"

    @property
    def is_final(self) -> bool:
        return self in FINAL_INCENTIVE_STATUSES


FINAL_INCENTIVE_STATUSES = frozenset({
    IncentiveStatus.ineligible, IncentiveStatus.completed, IncentiveStatus.rejected, IncentiveStatus.withdrawn,
    IncentiveStatus.lapsed, IncentiveStatus.expired,
})


# ---- rule data: config/incentives.toml -----------------------------------------------------------


class Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RebateRules(Data):
    """`location_rebate`: a share of audited qualifying Jakarta spend, paid in two tranches."""

    rate: float = Field(gt=0, le=1, description="Share of audited qualifying Jakarta spend (0.25)")
    small_budget_rate: float = Field(gt=0, le=1, description="The rate when planned spend is below the threshold")
    small_budget_below_idr: int = Field(gt=0, description="Planned Jakarta spend below this gets small_budget_rate")
    late_rate: float = Field(gt=0, le=1, description="The rate when applied for too close to the first shoot day")
    late_within_days: int = Field(ge=0, description="Applied for fewer than this many days before the first shoot day")
    cap_idr: int = Field(gt=0, description="At most this per production")
    post_production_max_share: float = Field(ge=0, le=1, description="Post-production's part of qualifying spend")
    min_shoot_days: int = Field(ge=1, description="Distinct shoot dates in Jakarta on the linked permit")
    min_planned_spend_idr: int = Field(ge=0)
    min_indonesian_crew_share: float = Field(ge=0, le=1)
    first_tranche_share: float = Field(gt=0, lt=1, description="Of the reservation, paid once photography begins")
    claim_due_days: int = Field(ge=1, description="Calendar days after the last shoot day to claim")
    audit_sla_business_days: int = Field(ge=1)
    committee_approvals: int = Field(default=2, ge=1, description="Different officers who must approve a claim")


class GrantTier(Data):
    min_days: int = Field(ge=1)
    amount_idr: int = Field(gt=0)


class ShootingDaysRules(Data):
    """`shooting_days_grant`: a fixed amount by shoot days in Jakarta, paid once on a short report."""

    tiers: list[GrantTier] = Field(min_length=1)
    report_due_days: int = Field(ge=1, description="Calendar days after the last shoot day to report")

    @model_validator(mode="after")
    def _ascending(self) -> ShootingDaysRules:
        days = [t.min_days for t in self.tiers]
        if days != sorted(set(days)):
            raise ValueError("tiers must have distinct min_days, in ascending order")
        return self


class FeatureCall(Data):
    """One call of the `first_feature_fund`: applications until the deadline, then the panel ranks them."""

    id: str = Field(pattern=r"^[A-Z0-9-]{3,40}$")
    fiscal_year: int = Field(ge=2020, le=2100)
    opens_at: dt.datetime
    deadline: dt.datetime
    panel_size: int = Field(default=2, ge=1, description="Different officers who score each application")

    @model_validator(mode="after")
    def _order(self) -> FeatureCall:
        if self.opens_at.tzinfo is None or self.deadline.tzinfo is None:
            raise ValueError("opens_at and deadline need a time zone offset (e.g. +07:00)")
        if self.deadline <= self.opens_at:
            raise ValueError("the deadline must come after opens_at")
        return self


class FirstFeatureRules(Data):
    """`first_feature_fund`: fixed grants awarded in rank order while the fund lasts, paid by milestone."""

    grants_idr: list[int] = Field(min_length=1, description="The grant amounts an application may ask for")
    tranche_shares: list[float] = Field(min_length=1, description="Per milestone, in order; they add up to 1")
    milestones: list[str] = Field(min_length=1, description="photography_start, then what the applicant reports")
    calls: list[FeatureCall] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> FirstFeatureRules:
        if len(self.tranche_shares) != len(self.milestones):
            raise ValueError("tranche_shares and milestones must have the same length")
        if abs(sum(self.tranche_shares) - 1) > 1e-9:
            raise ValueError(f"tranche_shares must add up to 1, not {sum(self.tranche_shares)}")
        if self.milestones[0] != "photography_start":
            raise ValueError("the first milestone is photography_start")
        return self


class ProgrammeRules(Data):
    """One programme, versioned; an application records the version it was judged by."""

    code: Programme
    version: str = Field(min_length=1)
    name_id: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    default_capacity_idr: int = Field(ge=0, description="A fiscal year's fund until an officer sets it")
    reservation_expiry_days: int = Field(ge=0, description="Days after the planned first shoot day without "
                                                           "photography before a reservation expires")
    clawback_window_months: int = Field(default=12, ge=0)
    rebate: RebateRules | None = None
    shooting_days: ShootingDaysRules | None = None
    first_feature: FirstFeatureRules | None = None

    @model_validator(mode="after")
    def _one_section(self) -> ProgrammeRules:
        wanted = {Programme.location_rebate: "rebate", Programme.shooting_days_grant: "shooting_days",
                  Programme.first_feature_fund: "first_feature"}[self.code]
        for section in ("rebate", "shooting_days", "first_feature"):
            present = getattr(self, section) is not None
            if section == wanted and not present:
                raise ValueError(f"{self.code.value} needs its [{section}] rules")
            if section != wanted and present:
                raise ValueError(f"{self.code.value} takes no [{section}] rules")
        return self


class ExternalParty(Data):
    """The audit firm or the treasury, reached like an agency."""

    base_url: str = Field(pattern=r"^https?://", description="May contain {simulator_url}")
    webhook_secret_ref: str = Field(pattern=r"^[a-z0-9_]+$")
    calls_per_second: float = Field(default=5.0, gt=0)


class IncentiveRules(Data):
    version: str = Field(min_length=1)
    audit: ExternalParty
    treasury: ExternalParty
    programmes: list[ProgrammeRules] = Field(min_length=1)

    @model_validator(mode="after")
    def _every_programme_once(self) -> IncentiveRules:
        codes = [p.code for p in self.programmes]
        missing = sorted(set(Programme) - set(codes))
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if missing:
            raise ValueError(f"programmes missing: {', '.join(missing)}")
        if twice:
            raise ValueError(f"programmes given more than once: {', '.join(twice)}")
        return self

    def get(self, code: str) -> ProgrammeRules:
        for programme in self.programmes:
            if programme.code == code:
                return programme
        raise KeyError(f"unknown programme {code!r}")


# ---- what an applicant sends ---------------------------------------------------------------------


class Project(Strict):
    """The project, for the first-feature fund (and shown on certificates)."""

    director_name: str = Field(min_length=1, max_length=200)
    director_nationality: str = Field(pattern=r"^[A-Z]{2}$")
    synopsis: str = Field(default="", max_length=5000)
    requested_grant_idr: int | None = Field(default=None, gt=0, description="first_feature_fund: one of its grants")
    call_id: str | None = Field(default=None, max_length=40, description="first_feature_fund: the call applied to")


class IncentiveApplication(Strict):
    """Body of `POST /v1/incentives`."""

    programme: Programme
    permit_id: str = Field(min_length=1, max_length=40, description="The linked JFC permit application (PRM-…)")
    fiscal_year: int = Field(ge=2020, le=2100)
    planned_jakarta_spend_idr: int = Field(ge=0)
    planned_post_production_idr: int = Field(default=0, ge=0)
    crew_total: int = Field(ge=1, le=100_000)
    crew_indonesian: int = Field(ge=0, le=100_000)
    director_first_feature: bool | None = None
    project: Project | None = None

    @field_validator("crew_indonesian")
    @classmethod
    def _crew(cls, value: int, info: ValidationInfo) -> int:
        total = info.data.get("crew_total")
        if total is not None and value > total:
            raise ValueError(f"cannot exceed crew_total ({total})")
        return value

    @field_validator("planned_post_production_idr")
    @classmethod
    def _post_within_spend(cls, value: int, info: ValidationInfo) -> int:
        spend = info.data.get("planned_jakarta_spend_idr")
        if spend is not None and value > spend:
            raise ValueError(f"post-production is part of the planned Jakarta spend ({spend} IDR), so it cannot "
                             "be more than it")
        return value


class ClaimCategory(StrEnum):
    crew = "crew"
    cast = "cast"
    location = "location"
    equipment = "equipment"
    accommodation = "accommodation"
    transport = "transport"
    catering = "catering"
    post_production = "post_production"
    other = "other"


class ClaimLine(Strict):
    category: ClaimCategory
    supplier: str = Field(min_length=1, max_length=200)
    amount_idr: int = Field(gt=0)
    date: dt.date
    in_jakarta: bool


class Claim(Strict):
    """Body of `POST /v1/incentives/{id}/claim`: the audited expenditure claim (location rebate), the short report
    (shooting-days grant) or a milestone report (first-feature fund)."""

    lines: list[ClaimLine] = Field(default_factory=list, max_length=5000)
    total_idr: int | None = Field(default=None, ge=0, description="The claim's total; must equal its lines' sum")
    report: str | None = Field(default=None, max_length=10_000)
    milestone: str | None = Field(default=None, max_length=40, description="first_feature_fund: what is done")


class WithdrawBody(Strict):
    reason: str = Field(min_length=1, max_length=2000)


class PermitFacts(BaseModel):
    """What the incentive engine knows of the linked permit when it judges an application."""

    permit_id: str
    organisation_id: str | None
    status: str = Field(description="The permit application's status (ApplicationStatus)")
    production_title: str
    production_kind: str
    applicant_company: str
    shoot_dates: list[dt.date] = Field(description="Distinct shoot dates on the permit, in order")

    @property
    def first_shoot_date(self) -> dt.date:
        return self.shoot_dates[0]

    @property
    def last_shoot_date(self) -> dt.date:
        return self.shoot_dates[-1]


# ---- what anyone reads -------------------------------------------------------------------------------


class RuleCheck(BaseModel):
    """One eligibility rule as it was checked: what it asked, what it found."""

    rule: str
    ok: bool
    detail: str


class TrancheStatus(StrEnum):
    scheduled = "scheduled"
    paying = "paying"
    paid = "paid"
    cancelled = "cancelled"


class Tranche(BaseModel):
    n: int
    amount_idr: int
    status: TrancheStatus = TrancheStatus.scheduled
    milestone: str | None = None
    paid_at: dt.datetime | None = None
    reference: str | None = Field(default=None, description="The treasury's payment reference")


class AuditView(BaseModel):
    reference: str | None = None
    requested_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    decided_at: dt.datetime | None = None
    qualifying_idr: int | None = Field(default=None, description="Audited qualifying Jakarta spend")
    post_production_idr: int | None = None
    rebate_idr: int | None = Field(default=None, description="What the audited figures give, before what was paid")
    notes: list[str] = Field(default_factory=list)


class Vote(BaseModel):
    officer: str
    outcome: str  # approve | reject
    reason: str
    at: dt.datetime


class CommitteeView(BaseModel):
    round: int = Field(default=0, description="1 for the first claim before the committee, 2 after a return")
    votes: list[Vote] = Field(default_factory=list)
    returned_reason: str | None = None


class CertificateKind(StrEnum):
    interim = "interim"
    final = "final"


class CertificateInfo(BaseModel):
    kind: CertificateKind
    number: str
    issued_at: dt.datetime
    document_url: str
    verify_url: str


class IncentiveStatusView(BaseModel):
    """The answer of `GET /v1/incentives/{id}` and of the incentive workflow's status query."""

    id: str
    programme: Programme
    programme_version: str
    status: IncentiveStatus
    organisation_id: str | None = None
    permit_id: str
    fiscal_year: int
    submitted_at: dt.datetime
    production_title: str = ""
    eligibility: list[RuleCheck] = Field(default_factory=list)
    rate: float | None = None
    estimated_idr: int = 0
    reserved_idr: int = 0
    paid_idr: int = 0
    clawed_back_idr: int = 0
    tranches: list[Tranche] = Field(default_factory=list)
    claim: Claim | None = None
    audit: AuditView | None = None
    committee: CommitteeView = Field(default_factory=CommitteeView)
    certificates: list[CertificateInfo] = Field(default_factory=list)
    call_id: str | None = None
    score: float | None = Field(default=None, description="first_feature_fund: the panel's mean score")
    next_deadline: dt.datetime | None = None
    timeline: list[TimelineEvent] = Field(default_factory=list)


class FundProgramme(BaseModel):
    programme: Programme
    capacity_idr: int
    reserved_idr: int
    paid_idr: int
    clawed_back_idr: int
    available_idr: int
    waitlisted: int


class FundView(BaseModel):
    """`GET /v1/funds/{fiscal_year}`."""

    fiscal_year: int
    programmes: list[FundProgramme]
