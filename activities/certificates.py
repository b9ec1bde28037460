"""Issuing incentive certificates (design §4): the interim one once money is reserved, the final one once it is paid.

Each is a bilingual one-page PDF (programme, production, amount, tranches) with a QR code to the public
verification page, which says whether the certificate still stands.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from temporalio import activity

from activities.documents import BilingualPdf, jakarta_time, rupiah, write_atomically
from activities.errors import invalid_input
from domain.ids import certificate_number
from domain.jakarta import JAKARTA
from schemas.contracts import ISSUE_CERTIFICATE
from schemas.incentive_contracts import CertificateInput, CertificateResult
from schemas.incentives import CertificateInfo, CertificateKind, Tranche, TrancheStatus

TITLES = {
    CertificateKind.interim: "Sertifikat Insentif Sementara / Interim incentive certificate",
    CertificateKind.final: "Sertifikat Insentif Akhir / Final incentive certificate",
}
AMOUNT_LABELS = {
    CertificateKind.interim: "Dicadangkan / Reserved",
    CertificateKind.final: "Dibayar / Paid",
}
TRANCHE_STATUSES = {
    TrancheStatus.scheduled: "dijadwalkan / scheduled",
    TrancheStatus.paying: "sedang dibayar / being paid",
    TrancheStatus.paid: "dibayar / paid",
    TrancheStatus.cancelled: "dibatalkan / cancelled",
}
MILESTONES = {
    "photography_start": "mulai syuting / start of photography",
    "final": "penyelesaian setelah audit / settlement after the audit",
    "report": "laporan / report",
    "rough_cut": "rough cut",
    "delivery": "penyerahan / delivery",
}


class CertificateActivities:
    """Writes incentive certificates into `documents_dir` as `<incentive id>-<kind>.pdf`."""

    def __init__(self, documents_dir: Path) -> None:
        self._dir = Path(documents_dir)

    @activity.defn(name=ISSUE_CERTIFICATE)
    async def issue_certificate(self, input: CertificateInput) -> CertificateResult:
        """Number the certificate and write its PDF; a retry rewrites the same file with the same number and bytes."""
        try:
            number = certificate_number(input.incentive_id, input.kind.value, input.issued_at.astimezone(JAKARTA).year)
        except ValueError as exc:
            raise invalid_input(exc) from exc
        base = input.public_base_url.rstrip("/")
        certificate = CertificateInfo(
            kind=input.kind,
            number=number,
            issued_at=input.issued_at,
            document_url=f"{base}/v1/incentives/{input.incentive_id}/certificates/{input.kind.value}",
            verify_url=f"{base}/v1/verify/{number}",
        )
        sha256 = await asyncio.to_thread(self._write, input, certificate)
        return CertificateResult(certificate=certificate, sha256=sha256)

    def _write(self, input: CertificateInput, certificate: CertificateInfo) -> str:
        name = f"{input.incentive_id}-{input.kind.value}.pdf"
        return write_atomically(self._dir, name, render_certificate(input, certificate))


def render_certificate(input: CertificateInput, certificate: CertificateInfo) -> bytes:
    """The certificate PDF: what the commission certifies, for which production, how much and in which tranches.

    It names the company, never a person: no contact names, e-mail addresses or phone numbers.
    """
    programme, title = input.programme, TITLES[input.kind]
    pdf = BilingualPdf(certificate.number, input.issued_at, f"{title} {certificate.number}",
                       content=input.model_dump_json())
    pdf.banner(title, certificate.verify_url)
    pdf.field("Nomor sertifikat / Certificate number", certificate.number, bold=True)
    pdf.field("Diterbitkan / Issued", jakarta_time(certificate.issued_at))
    pdf.field("Program / Programme", f"{programme.name_id} / {programme.name_en}")
    pdf.field("Versi aturan / Rules version", programme.version)
    pdf.end_banner()

    pdf.heading("Produksi / Production")
    pdf.field("Judul / Title", input.production_title or "-")
    pdf.field("Perusahaan / Company", input.applicant_company or "-")
    pdf.field("Izin terkait / Linked permit", input.permit_id)
    pdf.field("Tahun anggaran / Fiscal year", str(input.fiscal_year))

    pdf.heading("Insentif / Incentive")
    pdf.field(AMOUNT_LABELS[input.kind], rupiah(input.amount_idr), bold=True)
    for line in _statement(input):
        pdf.line_text(line)

    pdf.heading("Termin / Tranches")
    for tranche in input.tranches:
        pdf.line_text(_tranche_line(tranche), indent=2)
    if not input.tranches:
        pdf.line_text("Belum ada termin / No tranches yet", indent=2)

    pdf.verification(certificate.verify_url)
    pdf.line_text("Keadaan sertifikat ini dapat berubah (penarikan kembali, pembatalan); halaman verifikasi "
                  "menunjukkan keadaannya saat ini.")
    pdf.line_text("This certificate's standing can change (clawback, withdrawal); the verification page shows its "
                  "current state.")
    return bytes(pdf.output())


def _statement(input: CertificateInput) -> list[str]:
    """What the certificate says the amount means, in Indonesian and then English."""
    if input.kind == CertificateKind.interim:
        year = input.fiscal_year
        return [
            (f"Jumlah di atas dicadangkan untuk produksi ini dari dana program tahun anggaran {year}. "
             "Pembayaran mengikuti termin di bawah; sertifikat akhir diterbitkan setelah pembayaran terakhir."),
            (f"The amount above is reserved for this production from the programme's fund for fiscal year {year}. "
             "It is paid in the tranches below; a final certificate follows the last payment."),
        ]  # fmt: skip
    months = input.programme.clawback_window_months
    statement = ["Jumlah di atas telah dibayar kepada perusahaan produksi.",
                 "The amount above has been paid to the production company."]
    if months:
        statement[0] += f" Komisi dapat menariknya kembali dalam {months} bulan sejak tanggal terbit."
        statement[1] += f" The commission may claw it back within {months} months of the issue date."
    return statement


def _tranche_line(tranche: Tranche) -> str:
    """`1. Rp 312.500.000 - mulai syuting / start of photography - dibayar / paid 2027-03-02 10:00 WIB`."""
    milestone = MILESTONES.get(tranche.milestone or "", (tranche.milestone or "").replace("_", " "))
    settled_later = tranche.amount_idr == 0 and tranche.status == TrancheStatus.scheduled
    amount = "jumlah ditetapkan kemudian / amount set later" if settled_later else rupiah(tranche.amount_idr)
    parts = [f"{tranche.n}. {amount}", milestone, TRANCHE_STATUSES[tranche.status]]
    line = " - ".join(part for part in parts if part)
    if tranche.paid_at is not None:
        line += f" {jakarta_time(tranche.paid_at)}"
    if tranche.reference:
        line += f" (ref. {tranche.reference})"
    return line
