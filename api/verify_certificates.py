"""Public verification of incentive certificates (the QR code on one): does it still stand, for what, how much.

`GET /v1/verify/{number}` (api.verify) answers here for certificate numbers. The facts come from the incentive
workflow's status query; a certificate is known only when that incentive lists it. Shows no personal data:
no contact names, emails or phones, not even the organisation.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Literal

import structlog
from pydantic import BaseModel, Field

from api import temporal
from api.context import ApiContext
from api.problems import ApiProblem
from api.verify import html_page, jakarta_time, rupiah
from domain.ids import incentive_id_from_certificate_number
from schemas.contracts import QUERY_STATUS
from schemas.incentives import CertificateInfo, CertificateKind, IncentiveStatus, IncentiveStatusView, Programme

log = structlog.get_logger("jfc.api")

CertificateState = Literal["valid", "superseded", "clawed_back", "withdrawn", "rejected", "lapsed", "expired"]
# An incentive that ended without its money: none of its certificates stands any more; the state says why.
_ENDED: dict[IncentiveStatus, tuple[CertificateState, str]] = {
    IncentiveStatus.withdrawn: ("withdrawn", "The application was withdrawn; this certificate is no longer valid."),
    IncentiveStatus.rejected: ("rejected", "The claim was rejected; this certificate is no longer valid."),
    IncentiveStatus.lapsed: ("lapsed", "The claim was not made in time; this certificate is no longer valid."),
    IncentiveStatus.expired: ("expired", ("The reservation expired before photography began; this certificate is "
                                          "no longer valid.")),
}


class VerifiedProgramme(BaseModel):
    code: Programme
    version: str = Field(description="The version of the programme's rules the incentive was judged by")
    name_id: str
    name_en: str


class CertificateVerification(BaseModel):
    """What anyone may know about an incentive certificate."""

    number: str
    kind: CertificateKind
    valid: bool = Field(description="True only in the state `valid`")
    state: CertificateState
    state_detail: str
    superseded_by: str | None = Field(default=None, description="The final certificate that replaced an interim one")
    programme: VerifiedProgramme
    production_title: str
    fiscal_year: int
    amount_idr: int = Field(description="Interim: reserved for the production, including what has been paid of it; "
                                        "final: paid, less what was clawed back")
    clawed_back_idr: int = 0
    issued_at: dt.datetime
    checked_at: dt.datetime


async def certificate_verification(ctx: ApiContext, certificate_number: str) -> CertificateVerification:
    """The certificate's public facts; a 404 problem when no incentive lists a certificate with this number."""
    unknown = ApiProblem(
        404,
        "certificate not found",
        "No incentive certificate has this number. Check it character by character; a certificate not listed here "
        "is not valid.",
        kind="certificate-not-found",
    )
    number = certificate_number.strip().upper()
    parsed = incentive_id_from_certificate_number(number)
    if parsed is None:
        raise unknown
    incentive_id, _ = parsed
    structlog.contextvars.bind_contextvars(incentive_id=incentive_id)
    view: IncentiveStatusView = await temporal.query(ctx.temporal, incentive_id, QUERY_STATUS, IncentiveStatusView,
                                                     not_found=unknown)
    certificate = next((c for c in view.certificates if c.number == number), None)
    if certificate is None:
        raise unknown
    state, detail, superseded_by = certificate_state(view, certificate)
    log.info("certificate verified", kind=certificate.kind.value, state=state)
    return CertificateVerification(
        number=certificate.number,
        kind=certificate.kind,
        valid=state == "valid",
        state=state,
        state_detail=detail,
        superseded_by=superseded_by,
        programme=_programme(ctx, view),
        production_title=view.production_title,
        fiscal_year=view.fiscal_year,
        amount_idr=(view.reserved_idr + view.paid_idr if certificate.kind == CertificateKind.interim
                    else view.paid_idr - view.clawed_back_idr),
        clawed_back_idr=view.clawed_back_idr,
        issued_at=certificate.issued_at,
        checked_at=ctx.now(),
    )


def certificate_state(
    view: IncentiveStatusView, certificate: CertificateInfo
) -> tuple[CertificateState, str, str | None]:
    """The certificate's public state, a one-line explanation, and the final certificate that superseded it."""
    if view.status in _ENDED:
        state, detail = _ENDED[view.status]
        return state, detail, None
    final = next((c for c in view.certificates if c.kind == CertificateKind.final), None)
    if certificate.kind == CertificateKind.interim and final is not None:
        return "superseded", f"The incentive has been paid; the final certificate {final.number} replaces this one.", \
            final.number
    if view.clawed_back_idr > 0:
        return "clawed_back", f"The commission has clawed back {rupiah(view.clawed_back_idr)} of this incentive.", None
    if certificate.kind == CertificateKind.interim:
        return "valid", f"{rupiah(view.reserved_idr + view.paid_idr)} is reserved for this production.", None
    return "valid", f"{rupiah(view.paid_idr)} has been paid for this production.", None


def _programme(ctx: ApiContext, view: IncentiveStatusView) -> VerifiedProgramme:
    try:
        rules = ctx.incentives.get(view.programme)
        name_id, name_en = rules.name_id, rules.name_en
    except KeyError:
        name_id = name_en = view.programme.value
    return VerifiedProgramme(code=view.programme, version=view.programme_version, name_id=name_id, name_en=name_en)


# ---- HTML -------------------------------------------------------------------------

_STATE_LABEL: dict[str, tuple[str, str, str]] = {
    "valid": ("Sertifikat berlaku", "Valid certificate", "#1b7f3b"),
    "superseded": ("Sertifikat digantikan", "Superseded certificate", "#8a6d00"),
    "clawed_back": ("Insentif ditarik kembali", "Incentive clawed back", "#b00020"),
    "withdrawn": ("Permohonan ditarik", "Application withdrawn", "#b00020"),
    "rejected": ("Klaim ditolak", "Claim rejected", "#b00020"),
    "lapsed": ("Klaim lewat waktu", "Claim lapsed", "#555555"),
    "expired": ("Pencadangan kedaluwarsa", "Reservation expired", "#555555"),
}
_KIND_LABEL = {
    CertificateKind.interim: ("Sertifikat sementara", "Interim certificate", "Dicadangkan / Reserved"),
    CertificateKind.final: ("Sertifikat akhir", "Final certificate", "Dibayar / Paid"),
}


def render_html(v: CertificateVerification) -> str:
    """A small, self-contained page; every value from the incentive is escaped."""
    label_id, label_en, colour = _STATE_LABEL[v.state]
    kind_id, kind_en, amount_label = _KIND_LABEL[v.kind]
    e = escape
    programme = f"{e(v.programme.name_id)} <small>({e(v.programme.name_en)}; {e(v.programme.version)})</small>"
    rows = [
        ("Nomor sertifikat / Certificate", e(v.number)),
        ("Jenis / Kind", f"{e(kind_id)} / {e(kind_en)}"),
        ("Program / Programme", programme),
        ("Produksi / Production", e(v.production_title) or "-"),
        ("Tahun anggaran / Fiscal year", str(v.fiscal_year)),
        (amount_label, e(rupiah(v.amount_idr))),
    ]
    if v.clawed_back_idr:
        rows.append(("Ditarik kembali / Clawed back", e(rupiah(v.clawed_back_idr))))
    if v.superseded_by:
        rows.append(("Digantikan oleh / Superseded by", e(v.superseded_by)))
    rows.append(("Terbit / Issued", e(jakarta_time(v.issued_at))))
    body = (
        f'<div class="state" style="background:{colour}"><h1>{e(label_id)} / {e(label_en)}</h1>'
        f"<p>{e(v.state_detail)}</p></div>"
        "<section><dl>" + "".join(f"<dt>{e(label)}</dt><dd>{value}</dd>" for label, value in rows) + "</dl></section>"
        f"<p><small>Jakarta Film Commission · diperiksa / checked {e(jakarta_time(v.checked_at))}.</small></p>"
    )
    return html_page(f"{v.number} — {label_en}", body)


def not_found_page(certificate_number: str) -> str:
    body = (
        '<div class="state" style="background:#b00020"><h1>Sertifikat tidak ditemukan / Certificate not found</h1>'
        f"<p>{escape(certificate_number)}</p></div>"
        "<section><p>Tidak ada sertifikat insentif dengan nomor ini. Sertifikat yang tidak tercantum di sini tidak sah."
        "</p><p>No incentive certificate has this number. A certificate not listed here is not valid.</p></section>"
    )
    return html_page("Certificate not found", body)
