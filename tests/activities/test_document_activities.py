"""The permit PDF: number, bilingual content, conditions, fees, a QR code, every name as written, and no personal
contact data; the agency's copy with only its own clearance."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import time
from pathlib import Path

import pytest
from activity_samples import APPLICATION_ID, EMAIL, PASSPORT, PHONE
from pypdf import PdfReader
from temporalio.testing import ActivityEnvironment

from activities.documents import (
    BilingualPdf,
    DocumentActivities,
    font_path,
    printable,
    render_agency_copy,
    render_permit,
)
from domain.calendar import JAKARTA
from domain.ids import permit_number
from schemas.application import PermitApplication
from schemas.contracts import IssueDocumentInput
from schemas.status import (
    ApplicationStatus,
    ClearanceStatus,
    ClearanceView,
    FeeLine,
    Fees,
    IssuedRevision,
    PermitInfo,
    PermitStatusView,
    location_views,
)

ISSUED = dt.datetime(2027, 1, 6, 9, 30, tzinfo=JAKARTA)
PERMIT = PermitInfo(number="JFC-2027-000001", issued_at=ISSUED, document_url="d",
                    verify_url="https://permits.jfc.test/v1/verify/JFC-2027-000001")
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


def text_of(path: Path | bytes) -> str:
    source = io.BytesIO(path) if isinstance(path, bytes) else path
    return "\n".join(page.extract_text() for page in PdfReader(source).pages)


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
        "Senja di Kota \u2014 Bagian 2 ? \u201cFinal\u201d", "PT Contoh Film", "Sari", "Kim - director (KR)", "Jl. Taman Suropati, Menteng", "06:00-18:00",
        "2027-01-14", CONDITION, "Drone flights below 120 m above ground only \u2192 \u2713", "Rp 8.000.000", "PAY-0042", result.permit.verify_url,
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


NAMES = ["김민준", "王小明", "Nguyễn Văn Anh", "Siti Nurhaliza", "Zoë"]


async def test_every_name_on_the_application_prints_as_written(tmp_path: Path, issue: IssueDocumentInput):
    app = issue.application
    named = app.model_copy(update={
        "applicant": app.applicant.model_copy(update={"contact_name": "Siti Nurhaliza"}),
        "foreign_crew": [
            app.foreign_crew[0].model_copy(update={"name": name, "nationality": country, "role": role})
            for name, country, role in (("김민준", "KR", "director"), ("王小明", "CN", "cinematographer"),
                                        ("Nguyễn Văn Anh", "VN", "gaffer"), ("Zoë", "FR", "producer"))
        ],
        # A decomposed ễ (e, circumflex, tilde) prints as the one composed letter.
        "locations": [app.locations[0].model_copy(update={"name": "Rumah Nguye\u0302\u0303n"}), *app.locations[1:]],
    })
    started = time.perf_counter()
    await ActivityEnvironment().run(DocumentActivities(tmp_path).issue_permit_document,
                                    issue.model_copy(update={"application": named}))
    elapsed = time.perf_counter() - started

    path = tmp_path / f"{APPLICATION_ID}.pdf"
    text = text_of(path)
    for name in NAMES:
        assert name in text, name
    assert "Rumah Nguyễn" in text
    assert "??" not in text
    assert path.stat().st_size < 100_000, "the font is subset: only the glyphs used are embedded"
    assert elapsed < 5, f"rendering took {elapsed:.1f} s"


def test_printable_keeps_what_the_font_has_and_falls_back_for_the_rest():
    assert printable("Senja \u2014 \u201cKota\u201d \u2026 caf\u00e9 \u0100 \U0001f3ac") == \
        "Senja \u2014 \u201cKota\u201d \u2026 caf\u00e9 \u0100 ?"
    assert printable("김민준 王小明 Zoë") == "김민준 王小明 Zoë"
    assert printable("Nguye\u0302\u0303n") == "Nguyễn"  # composed
    assert printable("\U0001d412\U0001d41e\U0001d427\U0001d423\U0001d41a") == "Senja"  # mathematical bold: plain
    assert printable("a\tb\u200bc\u00a0d\nе") == "a bc d\nе"


def test_the_font_is_freely_licensed():
    from fontTools.ttLib import TTFont

    font = TTFont(font_path(), fontNumber=0, lazy=True)
    assert "Apache License, Version 2.0" in font["name"].getDebugName(13)


def test_an_agencys_copy_shows_only_its_own_clearance_of_the_issued_revision(issue: IssueDocumentInput):
    number = permit_number(APPLICATION_ID, 2027)
    permit = PermitInfo(number=number, issued_at=ISSUED, document_url="d",
                        verify_url=f"https://permits.jfc.test/v1/verify/{number}")
    issued = IssuedRevision(revision=1, issued_at=ISSUED, locations=location_views(issue.application.locations),
                            clearances=issue.clearances, fees=issue.fees)
    view = PermitStatusView(
        id=APPLICATION_ID, status=ApplicationStatus.amended, revision=2, submitted_at=ISSUED,
        production_title="王小明의 영화", applicant_company="PT Contoh Film", permit=permit, issued=issued,
        locations=[], clearances=[ClearanceView(agency="parks", revision=2, status=ClearanceStatus.submitting)],
        fees=issue.fees,
    )

    text = text_of(render_agency_copy(view, "parks"))

    for expected in (number, "王小明의 영화", "PT Contoh Film", "Taman Suropati", "Kota Tua", "PRK-17", CONDITION,
                     "Rp 8.000.000", permit.verify_url, "parks"):
        assert expected in text, expected
    for other in ("AV-3", "aviation", "heritage:", "Drone flights", "Deemed approved"):
        assert other not in text, other
    aviation = text_of(render_agency_copy(view, "aviation"))
    assert "AV-3" in aviation and "PRK-17" not in aviation and CONDITION not in aviation


def test_a_document_without_cjk_or_hangul_is_set_in_the_small_face_with_the_same_metrics(issue: IssueDocumentInput):
    """Subsetting the whole font costs about 0.3 s a document: one whose text needs no CJK or Hangul glyph takes
    the font's small face, which measures every character it has exactly as the whole font does."""
    latin = BilingualPdf("JFC-1", ISSUED, "Izin", content=issue.model_dump_json())
    korean = BilingualPdf("JFC-1", ISSUED, "Izin", content=issue.model_dump_json() + "김민준")
    assert latin.small_face and not korean.small_face
    line = "Senja di Kota — Bagian 2 “Final” Nguyễn Zoë Rp 8.000.000 → ✓"
    for pdf in (latin, korean):
        pdf.add_page()
        pdf.use_font(10)
    assert latin.get_string_width(line) == pytest.approx(korean.get_string_width(line))
    assert "Nguyễn Zoë" in text_of(render_permit(issue.model_copy(update={"application": issue.application.model_copy(
        update={"applicant": issue.application.applicant.model_copy(update={"contact_name": "Nguyễn Zoë"})})}), PERMIT))


def test_text_the_small_face_lacks_is_refused_not_printed_as_boxes(issue: IssueDocumentInput):
    pdf = BilingualPdf("JFC-1", ISSUED, "Izin", content=issue.model_dump_json())
    pdf.add_page()
    with pytest.raises(ValueError, match="did not hold"):
        pdf.line_text("王小明")
