"""Issuing the permit: its number and a bilingual PDF with locations, hours, conditions, fees and a QR code.

The PDF pieces (`BilingualPdf`, `write_atomically`, `rupiah`, `jakarta_time`) also make the incentive certificates
and the agency's copy of a permit (`render_agency_copy`, which the API makes on request for an agency clerk).

Text is set in WenQuanYi Micro Hei (Apache License 2.0, shipped by the `paperang-p2-fonts-cjk` package), one
TrueType font with Latin, Vietnamese, Hangul and Han glyphs, so every name on an application prints as written;
fpdf2 embeds only the glyphs a document uses. A character the font lacks falls back to its plain letter, else `?`.

Subsetting the whole font (49,531 glyphs) costs about 0.3 s of CPU per document, so a document whose text needs no
CJK or Hangul glyph is subset from the font's own cut-down face instead (the same outlines and metrics, about 1,500
glyphs below U+2E80), made once per process.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import os
import tempfile
import threading
import unicodedata
from collections.abc import Iterable
from copy import copy
from functools import cache
from importlib import resources
from pathlib import Path

import segno
from fontTools import subset
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import TextMode
from fpdf.fonts import SubsetMap, TTFFont
from temporalio import activity

from activities.errors import invalid_input
from domain.ids import permit_number
from domain.jakarta import JAKARTA
from schemas.contracts import (
    ISSUE_PERMIT_DOCUMENT,
    IssueDocumentInput,
    IssueDocumentResult,
)
from schemas.status import (
    ClearanceView,
    Fees,
    IssuedRevision,
    PermitInfo,
    PermitStatusView,
)

FONT = "wqy-microhei"
FONT_PACKAGE, FONT_FILE = "paperang_p2_fonts_cjk", "fonts/wqy-microhei.ttc"  # face 0: the proportional one
SMALL_FACE_BELOW = 0x2E80  # the small face: Latin, Greek, Cyrillic, Vietnamese, punctuation; CJK and Hangul from here
BOLD_STROKE_MM_PER_PT = 0.011  # the font has no bold face: bold text is drawn with an outline this wide
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


@cache
def font_path() -> Path:
    """The document font's file, from its package."""
    return Path(str(resources.files(FONT_PACKAGE).joinpath(FONT_FILE)))


@cache
def _font_characters() -> frozenset[int]:
    """The code points the document font has glyphs for."""
    font = TTFont(font_path(), fontNumber=0, lazy=True)
    try:
        return frozenset(font.getBestCmap())
    finally:
        font.close()


_FONT_LOCK = threading.Lock()  # documents render in worker threads (`asyncio.to_thread`)


@cache
def _font_bytes(small: bool) -> bytes:
    """The document font file (face 0), read once per process; `small`: cut to the code points below
    SMALL_FACE_BELOW (about 2 s, once), so that subsetting it for a document is cheap."""
    data = font_path().read_bytes()
    if not small:
        return data
    font = TTFont(io.BytesIO(data), recalcTimestamp=False, fontNumber=0)
    options = subset.Options(notdef_outline=True, glyph_names=True, name_IDs=["*"], layout_features=["*"],
                             recalc_timestamp=False)
    options.drop_tables += ["FFTM"]  # a timestamp table fontTools cannot subset
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[c for c in _font_characters() if c < SMALL_FACE_BELOW])
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


@cache
def _parsed_font(small: bool) -> TTFFont:
    """A face of the document font as fpdf2 parses it (metrics of every glyph: about 0.2 s for the whole font), once
    per process. Documents never use it directly: each takes a `_document_font` made from it."""
    return TTFFont(FPDF(), io.BytesIO(_font_bytes(small)), FONT, "", collection_font_number=0)


def small_face_suffices(text: str) -> bool:
    """Whether every character of `text`, as printed, has its glyph in the small face."""
    return all(ord(char) < SMALL_FACE_BELOW for char in printable(text))


def _document_font(pdf: FPDF, small: bool) -> TTFFont:
    """The document font for `pdf`, as `pdf.add_font` would make it, without parsing the font again: the
    parsed metrics are shared (read-only); the glyphs this document uses, its font descriptor and the font object
    fontTools subsets in place when the PDF is written are its own, the last opened lazily from memory."""
    with _FONT_LOCK:
        parsed = _parsed_font(small)
    font = TTFFont.__new__(TTFFont)
    for name in TTFFont.__slots__:
        if hasattr(parsed, name):
            setattr(font, name, getattr(parsed, name))
    font.i = len(pdf.fonts) + 1
    font.cw = copy(parsed.cw)  # a defaultdict that grows on lookups of missing characters
    font.desc = copy(parsed.desc)  # writing the PDF names it and attaches the embedded font to it
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font._hbfont = None
    font.ttfont = TTFont(io.BytesIO(_font_bytes(small)), recalcTimestamp=False, fontNumber=0, lazy=True)
    font.subset = SubsetMap(font)
    return font


def printable(text: str) -> str:
    """`text` as the document font shows it: composed (NFC), spaces for control characters, zero-width ones
    dropped, and a character the font lacks as its plain letter (accents dropped) or `?`."""
    known = _font_characters()
    out = []
    for char in unicodedata.normalize("NFC", text):
        category = unicodedata.category(char)
        if char in "\n ":
            out.append(char)
        elif category == "Cf":
            continue  # zero-width and direction marks
        elif category[0] in "CZ":
            out.append(" ")  # control characters, other spaces
        elif ord(char) in known:
            out.append(char)
        else:
            plain = "".join(c for c in unicodedata.normalize("NFKD", char)
                            if not unicodedata.combining(c) and ord(c) in known)
            out.append(plain or "?")
    return "".join(out)


def render_permit(input: IssueDocumentInput, permit: PermitInfo) -> bytes:
    """The permit PDF; it holds no passport numbers, e-mail addresses or phone numbers."""
    app, fees = input.application, input.fees
    pdf = BilingualPdf(permit.number, input.issued_at, f"Izin syuting / Filming permit {permit.number}",
                       content=input.model_dump_json())
    pdf.banner("IZIN SYUTING / FILMING PERMIT", permit.verify_url)
    pdf.field("Nomor izin / Permit number", permit.number, bold=True)
    pdf.field("Diterbitkan / Issued", jakarta_time(permit.issued_at))
    pdf.field("Produksi / Production", f"{app.production.title} ({app.production.kind.replace('_', ' ')})")
    pdf.field("Pemohon / Applicant", f"{app.applicant.company} ({app.applicant.country})")
    pdf.field("Kontak / Contact", app.applicant.contact_name)
    pdf.field("Asuransi / Insurance", f"{app.insurance.insurer}, {app.insurance.policy_number}, "
              f"{rupiah(app.insurance.coverage_idr)}, berlaku s.d. / valid until {app.insurance.valid_until}")  # fmt: skip
    pdf.end_banner()
    if app.foreign_crew:
        pdf.heading("Kru asing / Foreign crew")
        for i, member in enumerate(app.foreign_crew, 1):
            pdf.line_text(f"{i}. {member.name} - {member.role} ({member.nationality})", indent=2)

    pdf.heading("Lokasi / Locations")
    for i, loc in enumerate(app.locations, 1):
        extras = [name for name, on in (("drone", loc.drone), ("pyrotechnics", loc.pyrotechnics),
                  ("fire effects", loc.fire_effects), ("prop weapons", loc.prop_weapons)) if on]  # fmt: skip
        details = (f"Kru / Crew: {loc.crew_size}; Kendaraan / Vehicles: {loc.vehicles}; "
                   f"Jalan / Road use: {loc.road_use.replace('_', ' ')}"
                   + (f"; Khusus / Special: {', '.join(extras)}" if extras else ""))  # fmt: skip
        days = [(day.date, day.start, day.end) for day in loc.days]
        pdf.location(i, loc.name, loc.kind.value, f"{loc.address}, {loc.city}", days, details)
    pdf.clearances(input.clearances)
    pdf.fees(fees)
    pdf.verification(permit.verify_url)
    return bytes(pdf.output())


def render_agency_copy(view: PermitStatusView, agency: str) -> bytes:
    """An agency's copy of an issued permit, made from its status view: the permit as last issued, with only
    `agency`'s clearance (reference, outcome, note, conditions). It names the company, never a person."""
    if view.permit is None:
        raise ValueError(f"application {view.id} has no permit yet")
    permit = view.permit
    issued = view.issued or IssuedRevision(
        revision=view.revision, issued_at=permit.issued_at, locations=view.locations, clearances=view.clearances,
        fees=view.fees)  # issued before the status view kept the issued revision
    pdf = BilingualPdf(permit.number, permit.issued_at, f"Izin syuting / Filming permit {permit.number} ({agency})",
                       content=view.model_dump_json())
    pdf.banner("IZIN SYUTING / FILMING PERMIT", permit.verify_url)
    pdf.field("Nomor izin / Permit number", permit.number, bold=True)
    pdf.field("Diterbitkan / Issued", jakarta_time(permit.issued_at))
    pdf.field("Produksi / Production", view.production_title)
    pdf.field("Pemohon / Applicant", view.applicant_company)
    pdf.field("Salinan untuk / Copy for", agency, bold=True)
    pdf.end_banner()
    pdf.line_text("Salinan ini hanya memuat rekomendasi instansi Anda. / This copy shows only your agency's clearance.")

    pdf.heading("Lokasi / Locations")
    for i, loc in enumerate(issued.locations, 1):
        days = [(day.date, day.start, day.end) for day in loc.days]
        pdf.location(i, loc.name, loc.kind, f"{loc.address}, {loc.city}", days)
    pdf.clearances([c for c in issued.clearances if c.agency == agency])
    if issued.fees is not None:
        pdf.fees(issued.fees)
    pdf.verification(permit.verify_url)
    return bytes(pdf.output())


class BilingualPdf(FPDF):
    """An A4 commission document (permit, certificate): a banner with the QR code, text helpers in the document
    font, and a footer naming the document's number. Its creation date is `issued_at`: same input, same bytes.

    `content` holds every text the document will print beyond its fixed labels (its input as JSON will do): it
    chooses the font face, the small one when that has every glyph."""

    def __init__(self, number: str, issued_at: dt.datetime, title: str, content: str) -> None:
        super().__init__(format="A4")
        self.number = number
        self.small_face = small_face_suffices(f"{number} {title} {content}")
        # what `self.add_font(FONT, "", font_path())` makes, parsed once
        self.fonts[FONT] = _document_font(self, self.small_face)
        self.set_auto_page_break(auto=True, margin=15)
        self.set_creation_date(issued_at)
        self.set_title(printable(title))
        self._right_margin = self.r_margin

    def normalize_text(self, text: str) -> str:
        """Every text fpdf2 prints passes here: one the small face lacks glyphs for is a bug in `content`."""
        if self.small_face and any(ord(char) >= SMALL_FACE_BELOW for char in text):
            raise ValueError(f"{self.number}: text the document's content did not hold: {text!r}")
        return super().normalize_text(text)

    def use_font(self, size: float, bold: bool = False) -> None:
        """The document font at `size` points; bold drawn with an outline (the font has no bold face)."""
        self.set_font(FONT, "", size)
        if bold:
            self.text_mode = TextMode.FILL_STROKE
            self.set_line_width(size * BOLD_STROKE_MM_PER_PT)
        else:
            self.text_mode = TextMode.FILL

    def footer(self) -> None:
        self.set_y(-12)
        self.use_font(8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, printable(f"{self.number} - halaman / page {self.page_no()}/{{nb}}"), align="C")
        self.set_text_color(0, 0, 0)

    def banner(self, title: str, verify_url: str) -> None:
        """The first page's title and the commission's name, with the QR code to `verify_url` in the top right
        corner; what follows keeps clear of the code until `end_banner()`."""
        self.add_page()
        self.image(qr_png(verify_url), x=self.w - self.r_margin - QR_MM, y=self.t_margin, w=QR_MM, link=verify_url)
        self._right_margin = self.r_margin
        self.set_right_margin(self._right_margin + QR_MM + 4)
        self.use_font(16, bold=True)
        text = printable(title)
        if self.get_string_width(text) > self.epw:  # too long for one line: one language a line
            text = text.replace(" / ", " /\n", 1)
        self.multi_cell(0, 9, text, align="L", new_x="LMARGIN", new_y="NEXT")
        self.use_font(10)
        self.cell(0, 5, "Komisi Film Jakarta / Jakarta Film Commission", new_x="LMARGIN", new_y="NEXT")
        self.ln(3)

    def end_banner(self) -> None:
        """Back to the full width, below the QR code."""
        self.set_right_margin(self._right_margin)
        self.set_y(max(self.get_y(), self.t_margin + QR_MM + 2))

    def location(self, n: int, name: str, kind: str, address: str,
                 days: Iterable[tuple[dt.date, dt.time, dt.time]], details: str | None = None) -> None:
        """One numbered location: its name and kind, address, optional details, then each shoot day's hours."""
        self.line_text(f"{n}. {name} - {kind.replace('_', ' ')}", bold=True)
        self.line_text(f"Alamat / Address: {address}", indent=5)
        if details:
            self.line_text(details, indent=5)
        for day, start, end in days:
            self.line_text(f"{day:%a %Y-%m-%d}  {start:%H:%M}-{end:%H:%M} WIB", indent=5)

    def clearances(self, clearances: list[ClearanceView]) -> None:
        """The agencies' clearances (outcome, reference, note), then their conditions."""
        ordered = sorted(clearances, key=lambda c: c.agency)
        self.heading("Rekomendasi instansi / Agency clearances")
        for c in ordered:
            decided = f", {jakarta_time(c.decided_at)}" if c.decided_at else ""
            reference = f", ref. {c.reference}" if c.reference else ""
            self.line_text(f"{c.agency}: {OUTCOMES.get(c.status, c.status)}{reference}{decided}", bold=True)
            if c.reason:
                self.line_text(f"Catatan / Note: {c.reason}", indent=5)
        self.heading("Syarat / Conditions")
        conditions = [(c.agency, text) for c in ordered for text in c.conditions]
        for agency, text in conditions:
            self.line_text(f"- [{agency}] {text}", indent=2)
        if not conditions:
            self.line_text("Tidak ada syarat khusus / No special conditions", indent=2)

    def fees(self, fees: Fees) -> None:
        """The fee lines, the total and the payment (receipt)."""
        self.heading("Biaya / Fees")
        for line in fees.lines:
            reduction = f", -{line.reduction:.0%}" if line.reduction else ""
            self.line_text(f"{line.description} - {line.location}: {line.days} hari / days x {rupiah(line.unit_idr)}"
                           f"{reduction} = {rupiah(line.amount_idr)}", indent=2)  # fmt: skip
        self.field("Jumlah / Total", f"{rupiah(fees.total_idr)} (tarif / schedule {fees.schedule_version})", bold=True)
        self.field("Dibayar / Paid", jakarta_time(fees.paid_at) if fees.paid_at else "belum dibayar / not paid")
        if fees.payment_id:
            self.field("Kuitansi / Receipt", fees.payment_id)

    def verification(self, verify_url: str) -> None:
        """The closing section: where anyone checks the document's current state."""
        self.heading("Verifikasi / Verification")
        self.line_text("Pindai kode QR atau buka / Scan the QR code or open:")
        self.set_text_color(0, 0, 160)
        self.line_text(verify_url, link=verify_url)
        self.set_text_color(0, 0, 0)

    def heading(self, text: str) -> None:
        self.ln(3)
        self.use_font(12, bold=True)
        self.cell(0, 7, printable(text), new_x="LMARGIN", new_y="NEXT")

    def field(self, label: str, value: str, bold: bool = False) -> None:
        self.use_font(9)
        self.cell(55, 5, printable(label))
        self.use_font(10, bold=bold)
        self.multi_cell(0, 5, printable(value), align="L", new_x="LMARGIN", new_y="NEXT")

    def line_text(self, text: str, indent: float = 0, bold: bool = False, link: str = "") -> None:
        self.use_font(9.5, bold=bold)
        self.set_x(self.l_margin + indent)
        self.multi_cell(0, 5, printable(text), align="L", new_x="LMARGIN", new_y="NEXT", link=link)


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
