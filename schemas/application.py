"""What an applicant submits: the permit application and its parts."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from domain.webhook_urls import parse_webhook_url


class Strict(BaseModel):
    """Base for input models: unknown fields are errors, strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LocationKind(StrEnum):
    park = "park"
    urban_forest = "urban_forest"
    heritage_site = "heritage_site"
    public_street = "public_street"
    public_space = "public_space"
    transit_station = "transit_station"
    government_building = "government_building"
    private_property = "private_property"


class RoadUse(StrEnum):
    none = "none"
    parking = "parking"
    lane_closure = "lane_closure"
    full_closure = "full_closure"
    rolling_closure = "rolling_closure"


class ProductionKind(StrEnum):
    feature_film = "feature_film"
    series = "series"
    commercial = "commercial"
    documentary = "documentary"
    music_video = "music_video"
    student = "student"


class Applicant(Strict):
    company: str = Field(min_length=1, max_length=200)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code")
    contact_name: str = Field(min_length=1, max_length=200)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    phone: str = Field(pattern=r"^\+?[0-9 ()\-]{6,24}$")
    webhook_url: str | None = Field(
        default=None,
        description="Where status notifications are sent: an https URL on a public host (port 443 or 1024-65535)",
    )

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url_allowed(cls, url: str | None) -> str | None:
        if url:
            parse_webhook_url(url)  # the syntactic rule; the host's addresses are checked at submission and send
        return url


class Production(Strict):
    title: str = Field(min_length=1, max_length=200)
    kind: ProductionKind
    synopsis: str = Field(default="", max_length=5000)


class ShootDay(Strict):
    date: dt.date
    start: dt.time
    end: dt.time

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, end: dt.time, info: ValidationInfo) -> dt.time:
        start = info.data.get("start")
        if start is not None and (start.tzinfo is None) != (end.tzinfo is None):
            raise ValueError("give start and end both with a time zone offset or both without (Jakarta time)")
        if start is not None and end <= start:
            raise ValueError(f"end {end:%H:%M} must be after start {start:%H:%M}")
        return end


class Location(Strict):
    name: str = Field(min_length=1, max_length=200)
    kind: LocationKind
    address: str = Field(min_length=1, max_length=500)
    city: str = Field(min_length=1, max_length=100)
    lat: float = Field(ge=-6.45, le=-5.9, description="Within DKI Jakarta (incl. Kepulauan Seribu bounds)")
    lon: float = Field(ge=106.3, le=107.1)
    days: list[ShootDay] = Field(min_length=1, max_length=120)
    crew_size: int = Field(ge=1, le=5000)
    vehicles: int = Field(default=0, ge=0, le=1000)
    road_use: RoadUse = RoadUse.none
    drone: bool = False
    pyrotechnics: bool = False
    fire_effects: bool = Field(default=False, description="Special effects with open fire")
    prop_weapons: bool = False

    @field_validator("days")
    @classmethod
    def _distinct_dates(cls, days: list[ShootDay]) -> list[ShootDay]:
        seen: set[dt.date] = set()
        for day in days:
            if day.date in seen:
                raise ValueError(f"date {day.date} appears twice")
            seen.add(day.date)
        return days


class ForeignCrewMember(Strict):
    name: str = Field(min_length=1, max_length=200)
    nationality: str = Field(pattern=r"^[A-Z]{2}$")
    passport_number: str = Field(pattern=r"^[A-Z0-9]{5,20}$")
    role: str = Field(min_length=1, max_length=100)

    @field_validator("nationality")
    @classmethod
    def _not_indonesian(cls, value: str) -> str:
        if value == "ID":
            raise ValueError("Indonesian crew members are not listed as foreign crew")
        return value


class Insurance(Strict):
    insurer: str = Field(min_length=1, max_length=200)
    policy_number: str = Field(min_length=1, max_length=100)
    coverage_idr: int = Field(gt=0)
    valid_until: dt.date


class Expedite(Strict):
    requested: bool = False
    reason: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _reason_when_requested(self) -> Expedite:
        if self.requested and not (self.reason and self.reason.strip()):
            raise ValueError("a reason is required when expedite is requested")
        return self


class PermitApplication(Strict):
    """A filming permit application as the applicant submits (or amends) it."""

    applicant: Applicant
    production: Production
    locations: list[Location] = Field(min_length=1, max_length=50)
    foreign_crew: list[ForeignCrewMember] = Field(default_factory=list, max_length=500)
    insurance: Insurance
    expedite: Expedite = Field(default_factory=Expedite)

    @property
    def shoot_dates(self) -> list[dt.date]:
        return sorted({day.date for loc in self.locations for day in loc.days})

    @property
    def first_shoot_date(self) -> dt.date:
        return self.shoot_dates[0]

    @property
    def last_shoot_date(self) -> dt.date:
        return self.shoot_dates[-1]

    @property
    def is_foreign(self) -> bool:
        return bool(self.foreign_crew)
