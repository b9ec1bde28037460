"""Sample applications and the packaged rule set for the domain tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from domain.catalog import load_rule_set
from schemas.application import PermitApplication

CONFIG = Path(__file__).resolve().parents[2] / "config"
RULES = load_rule_set(CONFIG / "agencies.toml", CONFIG / "rules.toml", "http://sim.test")


def location(**overrides: Any) -> dict[str, Any]:
    """A private-property location with nothing that needs an agency, unless overridden."""
    return {
        "name": "Rumah Produksi",
        "kind": "private_property",
        "address": "Jl. Kemang Raya 1",
        "city": "Jakarta Selatan",
        "lat": -6.26,
        "lon": 106.81,
        "days": [{"date": "2027-01-12", "start": "06:00", "end": "18:00"}],
        "crew_size": 20,
        **overrides,
    }


def application(*locations: dict[str, Any], foreign: int = 0, kind: str = "feature_film",
                valid_until: str = "2027-12-31") -> PermitApplication:
    """An application with the given locations (one plain one by default) and `foreign` foreign crew members."""
    return PermitApplication.model_validate(
        {
            "applicant": {"company": "PT Contoh Film", "country": "ID", "contact_name": "Sari",
                          "email": "sari@contoh.id", "phone": "+62 812 0000 0000"},
            "production": {"title": "Senja di Kota", "kind": kind},
            "locations": list(locations) or [location()],
            "foreign_crew": [
                {"name": f"Crew {i}", "nationality": "KR", "passport_number": f"M{i:07d}", "role": "camera"}
                for i in range(foreign)
            ],
            "insurance": {"insurer": "PT Asuransi", "policy_number": "P-1", "coverage_idr": 5_000_000_000,
                          "valid_until": valid_until},
        }
    )
