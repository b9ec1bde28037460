"""Issuing the permit: its number and a bilingual PDF with locations, hours, conditions, fees and a QR code.

The PDF pieces (`BilingualPdf`, `write_atomically`, `rupiah`, `jakarta_time`) also make the incentive certificates.
"""

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
from domain.ids import permit_number
from domain.jakarta import JAKARTA
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
        return write_atomically(self._dir, f"{input.application_id}.pdf", render_permit(input, permit))


def write_atomically(directory: Path, name: str, data: bytes) -> str:
    """Write `data` to `directory / name` all at once (a reader never sees half a file); returns its sha256."""
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, directory / name)
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
    pdf = BilingualPdf(permit.number, input.issued_at, f"Izin syuting / Filming permit {permit.number}")
    pdf.banner("IZIN SYUTING / FILMING PERMIT", permit.verify_url)
    pdf.field("Nomor izin / Permit number", permit.number, bold=True)
    pdf.field("Diterbitkan / Issued", jakarta_time(permit.issued_at))
    pdf.field("Produksi / Production", f"{app.production.title} ({app.production.kind.replace('_', ' ')})")
    pdf.field("Pemohon / Applicant", f"{app.applicant.company} ({app.applicant.country})")
    if app.foreign_crew:
        pdf.field("Kru asing / Foreign crew", f"{len(app.foreign_crew)} orang / persons (details held by the commission)")
    pdf.field("Asuransi / Insurance", f"{app.insurance.insurer}, {app.insurance.policy_number}, "
              f"{rupiah(app.insurance.coverage_idr)}, berlaku s.d. / valid until {app.insurance.valid_until}")  # fmt: skip
    pdf.end_banner()

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
        decided = f", {jakarta_time(c.decided_at)}" if c.decided_at else ""
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
        pdf.line_text(f"{line.description} - {line.location}: {line.days} hari / days x {rupiah(line.unit_idr)}"
                      f"{reduction} = {rupiah(line.amount_idr)}", indent=2)  # fmt: skip
    pdf.field("Jumlah / Total", f"{rupiah(fees.total_idr)} (tarif / schedule {fees.schedule_version})", bold=True)
    pdf.field("Dibayar / Paid", jakarta_time(fees.paid_at) if fees.paid_at else "belum dibayar / not paid")
    if fees.payment_id:
        pdf.field("Kuitansi / Receipt", fees.payment_id)

    pdf.verification(permit.verify_url)
    return bytes(pdf.output())


class BilingualPdf(FPDF):
    """An A4 commission document (permit, certificate): a banner with the QR code, text helpers that keep to
    latin-1, and a footer naming the document's number. Its creation date is `issued_at`: same input, same bytes."""

    def __init__(self, number: str, issued_at: dt.datetime, title: str) -> None:
        super().__init__(format="A4")
        self.number = number
        self.set_auto_page_break(auto=True, margin=15)
        self.set_creation_date(issued_at)
        self.set_title(latin1(title))
        self._right_margin = self.r_margin

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", "I", 8)
        self.cell(0, 5, latin1(f"{self.number} - halaman / page {self.page_no()}/{{nb}}"), align="C")

    def banner(self, title: str, verify_url: str) -> None:
        """The first page's title and the commission's name, with the QR code to `verify_url` in the top right
        corner; what follows keeps clear of the code until `end_banner()`."""
        self.add_page()
        self.image(qr_png(verify_url), x=self.w - self.r_margin - QR_MM, y=self.t_margin, w=QR_MM, link=verify_url)
        self._right_margin = self.r_margin
        self.set_right_margin(self._right_margin + QR_MM + 4)
        self.set_font("Helvetica", "B", 16)
        text = latin1(title)
        if self.get_string_width(text) > self.epw:  # too long for one line: one language a line
            text = text.replace(" / ", " /\n", 1)
        self.multi_cell(0, 9, text, new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 10)
        self.cell(0, 5, "Komisi Film Jakarta / Jakarta Film Commission", new_x="LMARGIN", new_y="NEXT")
        self.ln(3)

    def end_banner(self) -> None:
        """Back to the full width, below the QR code."""
        self.set_right_margin(self._right_margin)
        self.set_y(max(self.get_y(), self.t_margin + QR_MM + 2))

    def verification(self, verify_url: str) -> None:
        """The closing section: where anyone checks the document's current state."""
        self.heading("Verifikasi / Verification")
        self.line_text("Pindai kode QR atau buka / Scan the QR code or open:")
        self.set_text_color(0, 0, 160)
        self.line_text(verify_url, link=verify_url)
        self.set_text_color(0, 0, 0)

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


def qr_png(url: str) -> io.BytesIO:
    """A QR code of `url` as a PNG (error correction M), for `FPDF.image`."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=8, border=2)
    buffer.seek(0)
    return buffer


def jakarta_time(moment: dt.datetime) -> str:
    """`2027-01-06 09:30 WIB`."""
    return f"{moment.astimezone(JAKARTA):%Y-%m-%d %H:%M} WIB"


def rupiah(amount: int) -> str:
    """`Rp 1.234.567` (Indonesian digit grouping)."""
    return "Rp " + f"{amount:,}".replace(",", ".")
