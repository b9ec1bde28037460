"""Issuing the permit: its number and a bilingual PDF with locations, hours, conditions, fees and a QR code."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import os
import tempfile
import unicodedata
from pathlib import Path

import segno
from fpdf import FPDF
from temporalio import activity

from activities.errors import invalid_input
from domain.jakarta import JAKARTA
from domain.ids import permit_number
from schemas.contracts import ISSUE_PERMIT_DOCUMENT, IssueDocumentInput, IssueDocumentResult
from schemas.status import PermitInfo

_PUNCTUATION = str.maketrans(
    {"—": "-", "–": "-", "‑": "-", "‘": "'", "’": "'", "‚": ",", "“": '"', "”": '"', "„": '"', "…": "...",
     "•": "*", "€": "EUR", "™": "(TM)", "≤": "<=", "≥": ">=", "→": "->", "\u200b": ""}
)  # fmt: skip
QR_MM = 34
OUTCOMES = {
    "approved": "Disetujui / Approved",
    "approved_with_conditions": "Disetujui dengan syarat / Approved with conditions",
    "deemed_approved": "Dianggap disetujui (tanpa jawaban) / Deemed approved (no answer in time)",
}


class DocumentActivities:
    """Writes permit PDFs into `documents_dir` as `<application id>.pdf`."""

    def __init__(self, documents_dir: Path) -> None:
        self._dir = Path(documents_dir)

    @activity.defn(name=ISSUE_PERMIT_DOCUMENT)
    async def issue_permit_document(self, input: IssueDocumentInput) -> IssueDocumentResult:
        """Number the permit and write its PDF; a retry rewrites the same file with the same number and bytes."""
        try:
            number = permit_number(input.application_id, input.issued_at.astimezone(JAKARTA).year)
        except ValueError as exc:
            raise invalid_input(exc) from exc
        base = input.public_base_url.rstrip("/")
        permit = PermitInfo(
            number=number,
            issued_at=input.issued_at,
            document_url=f"{base}/v1/permits/{input.application_id}/document",
            verify_url=f"{base}/v1/verify/{number}",
        )
        sha256 = await asyncio.to_thread(self._write, input, permit)
        return IssueDocumentResult(permit=permit, sha256=sha256)

    def _write(self, input: IssueDocumentInput, permit: PermitInfo) -> str:
        data = render_permit(input, permit)
        self._dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self._dir, prefix=f".{input.application_id}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self._dir / f"{input.application_id}.pdf")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return hashlib.sha256(data).hexdigest()


def latin1(text: str) -> str:
    """`text` in the core PDF fonts' latin-1: punctuation mapped, accents kept or stripped, anything else `?`."""
    out = []
    for char in text.translate(_PUNCTUATION):
        if ord(char) < 256:
            out.append(char if char.isprintable() or char in "\n" else " ")
        else:
            plain = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")
            out.append("".join(c for c in plain if not unicodedata.combining(c)) or "?")
    return "".join(out)


def render_permit(input: IssueDocumentInput, permit: PermitInfo) -> bytes:
    """The permit PDF; it holds no passport numbers, e-mail addresses or phone numbers."""
    app, fees = input.application, input.fees
    pdf = _Permit(permit)
    pdf.set_creation_date(input.issued_at)  # same input, same bytes
    pdf.set_title(latin1(f"Izin syuting / Filming permit {permit.number}"))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 9, "IZIN SYUTING / FILMING PERMIT", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, 5, "Komisi Film Jakarta / Jakarta Film Commission", new_x="LMARGIN", new_y="NEXT")
    pdf.image(_qr_png(permit.verify_url), x=pdf.w - pdf.r_margin - QR_MM, y=pdf.t_margin, w=QR_MM, link=permit.verify_url)
    margin = pdf.r_margin
    pdf.set_right_margin(margin + QR_MM + 4)  # keep the header fields clear of the QR code
    pdf.ln(3)
    pdf.field("Nomor izin / Permit number", permit.number, bold=True)
    pdf.field("Diterbitkan / Issued", _when(permit.issued_at))
    pdf.field("Produksi / Production", f"{app.production.title} ({app.production.kind.replace('_', ' ')})")
    pdf.field("Pemohon / Applicant", f"{app.applicant.company} ({app.applicant.country})")
    if app.foreign_crew:
        pdf.field("Kru asing / Foreign crew", f"{len(app.foreign_crew)} orang / persons (details held by the commission)")
    pdf.field("Asuransi / Insurance", f"{app.insurance.insurer}, {app.insurance.policy_number}, "
              f"Rp {_idr(app.insurance.coverage_idr)}, berlaku s.d. / valid until {app.insurance.valid_until}")  # fmt: skip
    pdf.set_right_margin(margin)
    pdf.set_y(max(pdf.get_y(), pdf.t_margin + QR_MM + 2))

    pdf.heading("Lokasi / Locations")
    for i, loc in enumerate(app.locations, 1):
        pdf.line_text(f"{i}. {loc.name} - {loc.kind.replace('_', ' ')}", bold=True)
        pdf.line_text(f"Alamat / Address: {loc.address}, {loc.city}", indent=5)
        extras = [name for name, on in (("drone", loc.drone), ("pyrotechnics", loc.pyrotechnics),
                  ("fire effects", loc.fire_effects), ("prop weapons", loc.prop_weapons)) if on]  # fmt: skip
        pdf.line_text(f"Kru / Crew: {loc.crew_size}; Kendaraan / Vehicles: {loc.vehicles}; "
                      f"Jalan / Road use: {loc.road_use.replace('_', ' ')}"
                      + (f"; Khusus / Special: {', '.join(extras)}" if extras else ""), indent=5)  # fmt: skip
        for day in loc.days:
            pdf.line_text(f"{day.date:%a %Y-%m-%d}  {day.start:%H:%M}-{day.end:%H:%M} WIB", indent=5)

    pdf.heading("Rekomendasi instansi / Agency clearances")
    for c in sorted(input.clearances, key=lambda c: c.agency):
        decided = f", {_when(c.decided_at)}" if c.decided_at else ""
        reference = f", ref. {c.reference}" if c.reference else ""
        pdf.line_text(f"{c.agency}: {OUTCOMES.get(c.status, c.status)}{reference}{decided}", bold=True)
        if c.reason:
            pdf.line_text(f"Catatan / Note: {c.reason}", indent=5)

    pdf.heading("Syarat / Conditions")
    conditions = [(c.agency, text) for c in sorted(input.clearances, key=lambda c: c.agency) for text in c.conditions]
    for agency, text in conditions:
        pdf.line_text(f"- [{agency}] {text}", indent=2)
    if not conditions:
        pdf.line_text("Tidak ada syarat khusus / No special conditions", indent=2)

    pdf.heading("Biaya / Fees")
    for line in fees.lines:
        reduction = f", -{line.reduction:.0%}" if line.reduction else ""
        pdf.line_text(f"{line.description} - {line.location}: {line.days} hari / days x Rp {_idr(line.unit_idr)}"
                      f"{reduction} = Rp {_idr(line.amount_idr)}", indent=2)  # fmt: skip
    pdf.field("Jumlah / Total", f"Rp {_idr(fees.total_idr)} (tarif / schedule {fees.schedule_version})", bold=True)
    pdf.field("Dibayar / Paid", _when(fees.paid_at) if fees.paid_at else "belum dibayar / not paid")
    if fees.payment_id:
        pdf.field("Kuitansi / Receipt", fees.payment_id)

    pdf.heading("Verifikasi / Verification")
    pdf.line_text("Pindai kode QR atau buka / Scan the QR code or open:")
    pdf.set_text_color(0, 0, 160)
    pdf.line_text(permit.verify_url, link=permit.verify_url)
    pdf.set_text_color(0, 0, 0)
    return bytes(pdf.output())


class _Permit(FPDF):
    """A4 page with a footer naming the permit; text helpers that keep to latin-1."""

    def __init__(self, permit: PermitInfo) -> None:
        super().__init__(format="A4")
        self.permit = permit
        self.set_auto_page_break(auto=True, margin=15)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", "I", 8)
        self.cell(0, 5, latin1(f"{self.permit.number} - halaman / page {self.page_no()}/{{nb}}"), align="C")

    def heading(self, text: str) -> None:
        self.ln(3)
        self.set_font("Helvetica", "B", 12)
        self.cell(0, 7, latin1(text), new_x="LMARGIN", new_y="NEXT")

    def field(self, label: str, value: str, bold: bool = False) -> None:
        self.set_font("Helvetica", "", 9)
        self.cell(55, 5, latin1(label))
        self.set_font("Helvetica", "B" if bold else "", 10)
        self.multi_cell(0, 5, latin1(value), new_x="LMARGIN", new_y="NEXT")

    def line_text(self, text: str, indent: float = 0, bold: bool = False, link: str = "") -> None:
        self.set_font("Helvetica", "B" if bold else "", 9.5)
        self.set_x(self.l_margin + indent)
        self.multi_cell(0, 5, latin1(text), new_x="LMARGIN", new_y="NEXT", link=link)


def _qr_png(url: str) -> io.BytesIO:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=8, border=2)
    buffer.seek(0)
    return buffer


def _when(moment: dt.datetime) -> str:
    return f"{moment.astimezone(JAKARTA):%Y-%m-%d %H:%M} WIB"


def _idr(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")
