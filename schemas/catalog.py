"""The agency catalog, the rule set and the fee schedule: versioned data loaded from TOML."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.application import LocationKind, ProductionKind


class AgencyCode(StrEnum):
    parks = "parks"
    heritage = "heritage"
    district = "district"
    transport = "transport"
    police = "police"
    fire = "fire"
    aviation = "aviation"
    transit = "transit"
    culture_ministry = "culture_ministry"


class DeliveryMode(StrEnum):
    webhook = "webhook"
    poll = "poll"


class Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Agency(Data):
    """One agency of the catalog."""

    code: AgencyCode
    name_id: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    base_url: str = Field(pattern=r"^https?://", description="May contain {simulator_url}")
    mode: DeliveryMode = DeliveryMode.webhook
    sla_days: int = Field(ge=1, le=60, description="SLA in Jakarta business days")
    grace_days: int = Field(default=5, ge=0, le=60, description="Business days after due_at before silence rules apply")
    silence_is_consent: bool
    calls_per_second: float = Field(default=5.0, gt=0)
    poll_interval_minutes: int = Field(default=60, ge=1, description="Longest wait between two polls")
    first_poll_seconds: int = Field(default=10, ge=1, description="First poll after acceptance; doubles up to the interval")
    reconcile_after_minutes: float = Field(
        default=60, gt=0, le=7 * 24 * 60,
        description="Webhook mode: with no decision heard this long after acceptance, poll the request's status "
        "(a lost webhook), then back off to the poll interval",
    )
    webhook_secret_ref: str = Field(pattern=r"^[a-z0-9_]+$")


class AgencyCatalog(Data):
    version: str = Field(min_length=1)
    agencies: list[Agency] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_codes(self) -> AgencyCatalog:
        codes = [a.code for a in self.agencies]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValueError(f"agency codes appear more than once: {', '.join(dupes)}")
        missing = sorted(set(AgencyCode) - set(codes))
        if missing:
            raise ValueError(f"agencies missing from the catalog: {', '.join(missing)}")
        return self

    def get(self, code: str) -> Agency:
        for agency in self.agencies:
            if agency.code == code:
                return agency
        raise KeyError(f"unknown agency code {code!r}")


class RoutingRules(Data):
    """Thresholds of the routing table (design §2)."""

    police_crew_threshold: int = Field(default=50, ge=1, description="Crew over this at a public location needs police")
    transport_vehicle_threshold: int = Field(default=5, ge=0, description="More vehicles than this on public roads needs transport")
    public_location_kinds: list[LocationKind] = Field(
        default_factory=lambda: [
            LocationKind.park,
            LocationKind.urban_forest,
            LocationKind.heritage_site,
            LocationKind.public_street,
            LocationKind.public_space,
            LocationKind.transit_station,
        ]
    )


class Timeouts(Data):
    information_reply_business_days: int = Field(default=10, ge=1)
    payment_business_days: int = Field(default=5, ge=1)


class FeeSchedule(Data):
    """Published fee schedule: IDR per location per shoot day, with reductions."""

    version: str = Field(min_length=1)
    per_location_day_idr: dict[LocationKind, int]
    reductions: dict[ProductionKind, float] = Field(
        default_factory=dict, description="Fraction taken off, e.g. 0.5 for half price"
    )

    @model_validator(mode="after")
    def _complete(self) -> FeeSchedule:
        missing = sorted(set(LocationKind) - set(self.per_location_day_idr))
        if missing:
            raise ValueError(f"fees missing for location kinds: {', '.join(missing)}")
        for kind, fraction in self.reductions.items():
            if not 0 <= fraction <= 1:
                raise ValueError(f"reduction for {kind} must be between 0 and 1, got {fraction}")
        for kind, amount in self.per_location_day_idr.items():
            if amount < 0:
                raise ValueError(f"fee for {kind} must not be negative, got {amount}")
        return self


class RuleSet(Data):
    """Everything an application is judged by; its version is recorded on the application."""

    version: str = Field(min_length=1)
    catalog: AgencyCatalog
    routing: RoutingRules = Field(default_factory=RoutingRules)
    timeouts: Timeouts = Field(default_factory=Timeouts)
    fees: FeeSchedule
