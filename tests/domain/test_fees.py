"""Fees from the published schedule: per location kind and shoot day, reductions, rounding half up."""

from __future__ import annotations

from domain_samples import RULES, application, location

from domain.fees import compute_fees
from schemas.catalog import FeeSchedule


def days(*dates: str) -> list[dict]:
    return [{"date": d, "start": "06:00", "end": "18:00"} for d in dates]


def schedule_with(**changes) -> FeeSchedule:
    return FeeSchedule.model_validate({**RULES.fees.model_dump(), **changes})


def test_one_line_per_location_and_total():
    app = application(
        location(name="Taman Suropati", kind="park", days=days("2027-01-12", "2027-01-13")),
        location(name="Kota Tua", kind="heritage_site"),
        location(name="Rumah", kind="private_property"),
    )
    fees = compute_fees(app, RULES.fees)
    assert fees.schedule_version == "2026.1"
    assert [(l.location, l.days, l.unit_idr, l.amount_idr) for l in fees.lines] == [
        ("Taman Suropati", 2, 1_500_000, 3_000_000),  # 1.5 M × 2 days
        ("Kota Tua", 1, 5_000_000, 5_000_000),
        ("Rumah", 1, 0, 0),
    ]
    assert fees.lines[0].description == "Taman Suropati (park), 2 day(s)"
    assert fees.total_idr == 8_000_000
    assert fees.paid_at is None


def test_student_reduction():
    # heritage 5 M × 1 day × (1 - 0.75) = 1.25 M
    fees = compute_fees(application(location(kind="heritage_site"), kind="student"), RULES.fees)
    assert fees.lines[0].reduction == 0.75
    assert fees.total_idr == 1_250_000


def test_documentary_reduction():
    # park 1.5 M × 3 days × (1 - 0.25) = 3.375 M
    app = application(location(kind="park", days=days("2027-01-12", "2027-01-13", "2027-01-14")), kind="documentary")
    assert compute_fees(app, RULES.fees).total_idr == 3_375_000


def test_no_reduction_for_commercials():
    fees = compute_fees(application(location(kind="public_street"), kind="commercial"), RULES.fees)
    assert fees.lines[0].reduction == 0
    assert fees.total_idr == 2_500_000


def test_rounding_is_half_up_to_whole_rupiah_per_line():
    schedule = schedule_with(per_location_day_idr={**RULES.fees.per_location_day_idr, "park": 5,
                                                   "public_space": 1_000_001}, reductions={"student": 0.5})
    app = application(location(kind="park"), location(kind="public_space"), kind="student")
    fees = compute_fees(app, schedule)
    # 5 × 0.5 = 2.5 → 3 (banker's rounding would give 2); 1,000,001 × 0.5 = 500,000.5 → 500,001
    assert [l.amount_idr for l in fees.lines] == [3, 500_001]
    assert fees.total_idr == 500_004


def test_reduction_is_exact_decimal_not_float():
    # in floats 15 × (1 - 0.9) = 1.4999999999999996, which would round to 1; exactly it is 1.5 → 2
    schedule = schedule_with(per_location_day_idr={**RULES.fees.per_location_day_idr, "park": 15},
                             reductions={"documentary": 0.9})
    assert compute_fees(application(location(kind="park"), kind="documentary"), schedule).total_idr == 2
