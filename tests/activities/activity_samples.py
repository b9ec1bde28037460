"""Sample data and a scriptable fake agency for the activity tests."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Request, Response

from domain.catalog import load_rule_set
from schemas.agency_api import ClearanceRequest
from schemas.application import PermitApplication
from schemas.catalog import Agency

PASSPORT = "M1234567"
EMAIL = "sari@contoh.id"
PHONE = "+62 812 0000 0000"
APPLICATION_ID = "PRM-ABCDEFGHIJKL"
REQUEST_KEY = f"{APPLICATION_ID}:parks:r1"
CONFIG = Path(__file__).resolve().parents[2] / "config"
RULES = load_rule_set(CONFIG / "agencies.toml", CONFIG / "rules.toml", "http://sim.test")


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeAgency:
    """An agency API that records every call and answers from `script` first, else like a healthy agency."""

    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    script: list[Response] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.api_route("/{path:path}", methods=["GET", "POST", "DELETE"])
        async def anything(path: str, request: Request) -> Response:
            self.seen.append(Seen(request.method, "/" + path, dict(request.headers), await request.body()))
            if self.script:
                return self.script.pop(0)
            if request.method == "POST" and path.endswith("clearance-requests"):
                key = request.headers.get("idempotency-key", "")
                return Response(f'{{"reference": "REF-{key}", "status": "received"}}', media_type="application/json")
            if request.method == "GET":
                body = {"reference": path.rsplit("/", 1)[-1], "status": "approved_with_conditions",
                        "conditions": ["No vehicles on the lawn"], "decided_at": "2027-01-05T10:00:00+07:00"}  # fmt: skip
                return Response(json.dumps(body), media_type="application/json")
            return Response(status_code=204)

        return app


def make_agency(base_url: str, calls_per_second: float = 100.0) -> Agency:
    return Agency(
        code="parks",
        name_id="Dinas Pertamanan dan Hutan Kota",
        name_en="Parks and Urban Forest Agency",
        base_url=base_url,
        sla_days=5,
        silence_is_consent=True,
        calls_per_second=calls_per_second,
        webhook_secret_ref="parks",
    )


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_application() -> PermitApplication:
    return PermitApplication.model_validate(
        {
            "applicant": {"company": "PT Contoh Film", "country": "ID", "contact_name": "Sari", "email": EMAIL, "phone": PHONE},
            "production": {"title": "Senja di Kota \u2014 Bagian 2 \U0001f3ac \u201cFinal\u201d", "kind": "feature_film"},
            "locations": [
                {
                    "name": "Taman Suropati", "kind": "park", "address": "Jl. Taman Suropati, Menteng", "city": "Jakarta Pusat",
                    "lat": -6.1995, "lon": 106.8325, "crew_size": 40, "vehicles": 6,
                    "days": [{"date": "2027-01-12", "start": "06:00", "end": "18:00"},
                             {"date": "2027-01-13", "start": "07:00", "end": "12:30"}],
                },
                {
                    "name": "Kota Tua", "kind": "heritage_site", "address": "Taman Fatahillah", "city": "Jakarta Barat",
                    "lat": -6.1352, "lon": 106.8133, "crew_size": 20, "drone": True,
                    "days": [{"date": "2027-01-14", "start": "05:30", "end": "09:00"}],
                },
            ],
            "foreign_crew": [{"name": "Kim", "nationality": "KR", "passport_number": PASSPORT, "role": "director"}],
            "insurance": {"insurer": "PT Asuransi", "policy_number": "P-1", "coverage_idr": 5_000_000_000,
                          "valid_until": "2027-02-28"},
        }
    )  # fmt: skip


def make_request(application: PermitApplication) -> ClearanceRequest:
    return ClearanceRequest(
        request_key=REQUEST_KEY,
        application_id=APPLICATION_ID,
        agency="parks",
        revision=1,
        applicant_company=application.applicant.company,
        applicant_contact=f"Sari <{EMAIL}> {PHONE}",
        production=application.production,
        locations=application.locations[:1],
        foreign_crew=application.foreign_crew,
        callback_url="http://127.0.0.1:8080/v1/agencies/parks/decisions",
    )
