"""Permit fees from the published schedule: one line per location, per shoot day, less reductions."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from schemas.application import PermitApplication
from schemas.catalog import FeeSchedule
from schemas.status import FeeLine, Fees


def compute_fees(app: PermitApplication, schedule: FeeSchedule) -> Fees:
    """Fees of `app`: each location's unit price × its shoot days × (1 − reduction), in whole rupiah."""
    reduction = schedule.reductions.get(app.production.kind, 0.0)
    lines = []
    for loc in app.locations:
        unit = schedule.per_location_day_idr[loc.kind]
        days = len(loc.days)
        exact = Decimal(unit) * days * (1 - Decimal(str(reduction)))
        lines.append(
            FeeLine(
                description=f"{loc.name} ({loc.kind.value}), {days} day(s)",
                location=loc.name,
                days=days,
                unit_idr=unit,
                reduction=reduction,
                amount_idr=int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)),
            )
        )
    return Fees(schedule_version=schedule.version, total_idr=sum(line.amount_idr for line in lines), lines=lines)
