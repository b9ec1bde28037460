"""The permit PDF: number, bilingual content, conditions, fees, a QR code, and no personal contact data."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from activity_samples import APPLICATION_ID, EMAIL, PASSPORT, PHONE
from pypdf import PdfReader
from temporalio.testing import ActivityEnvironment

from activities.documents import DocumentActivities, latin1
from domain.calendar import JAKARTA
from domain.ids import permit_number
from schemas.application import PermitApplication
from schemas.contracts import IssueDocumentInput
from schemas.status import ClearanceStatus, ClearanceView, FeeLine, Fees

ISSUED = dt.datetime(2027, 1, 6, 9, 30, tzinfo=JAKARTA)
CONDITION = "Crew stays on paved paths; no trampling of flower beds"


@pytest.fixture
def issue(application: PermitApplication) -> IssueDocumentInput:
    decided = dt.datetime(2027, 1, 4, 14, tzinfo=JAKARTA)
    return IssueDocumentInput(
        application_id=APPLICATION_ID,
        application=application,
        clearances=[
            ClearanceView(agency="parks", status=ClearanceStatus.approved_with_conditions, reference="PRK-17",
                          decided_at=decided, conditions=[CONDITION, "Site cleaned and restored by 20:00 each day"]),
            ClearanceView(agency="heritage", status=ClearanceStatus.deemed_approved, decided_at=decided),
            ClearanceView(agency="aviation", status=ClearanceStatus.approved, reference="AV-3", decided_at=decided,
                          conditions=["Drone flights below 120 m above ground only \u2192 \u2713"]),
        ],
        fees=Fees(
            schedule_version="2026.1", total_idr=8_000_000, paid_at=dt.datetime(2027, 1, 5, 11, tzinfo=JAKARTA),
            payment_id="PAY-0042",
            lines=[FeeLine(description="park", location="Taman Suropati", days=2, unit_idr=1_500_000, amount_idr=3_000_000),
                   FeeLine(description="heritage_site", location="Kota Tua", days=1, unit_idr=5_000_000, amount_idr=5_000_000)],
        ),
        issued_at=ISSUED,
        public_base_url="https://permits.jfc.test/",
    )  # fmt: skip


def text_of(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


async def test_permit_pdf_holds_what_the_field_needs_and_no_contact_data(tmp_path: Path, issue: IssueDocumentInput):
    result = await ActivityEnvironment().run(DocumentActivities(tmp_path).issue_permit_document, issue)
    number = permit_number(APPLICATION_ID, 2027)
    assert result.permit.number == number
    assert result.permit.verify_url == f"https://permits.jfc.test/v1/verify/{number}"
    assert result.permit.document_url == f"https://permits.jfc.test/v1/permits/{APPLICATION_ID}/document"
    path = tmp_path / f"{APPLICATION_ID}.pdf"
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left behind

    text = text_of(path)
    for expected in (
        number, "IZIN SYUTING / FILMING PERMIT", "Lokasi / Locations", "Syarat / Conditions", "Biaya / Fees",
        'Senja di Kota - Bagian 2 ? "Final"', "PT Contoh Film", "Jl. Taman Suropati, Menteng", "06:00-18:00",
        "2027-01-14", CONDITION, "Drone flights below 120 m", "Rp 8.000.000", "PAY-0042", result.permit.verify_url,
        "Deemed approved",
    ):  # fmt: skip
        assert expected in text, expected
    for secret in (PASSPORT, EMAIL, PHONE, "sari@"):
        assert secret not in text
    assert PASSPORT.encode() not in path.read_bytes()
    assert PdfReader(path).pages[0].images, "the QR code image is missing"


async def test_retry_gives_the_same_number_and_bytes(tmp_path: Path, issue: IssueDocumentInput):
    acts, env = DocumentActivities(tmp_path / "documents"), ActivityEnvironment()
    first = await env.run(acts.issue_permit_document, issue)
    second = await env.run(acts.issue_permit_document, issue)
    assert first == second


def test_latin1_transliterates_what_core_fonts_cannot_show():
    assert latin1("Senja \u2014 \u201cKota\u201d \u2026 caf\u00e9 \u0100 \U0001f3ac") == 'Senja - "Kota" ... caf\u00e9 A ?'
