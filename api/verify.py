"""Public verification (the QR code on a permit or a certificate): is it valid, where, when, which fees were paid.

`GET /v1/verify/{number}` answers for permit numbers here and for incentive certificate numbers through
`api.verify_certificates`, with the page helpers below. Shows no personal data: no emails, phones, passports or
contact names. A permit shows only what was cleared and paid for: the places, dates and clearances of the revision
it was last issued for; an amendment still being cleared is only said to be pending.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from html import escape
from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, Header, Path
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from api import temporal
from api.context import ApiContext, Context
from api.problems import ApiProblem, responses
from domain.ids import application_id_from_permit_number, incentive_id_from_certificate_number
from domain.jakarta import JAKARTA
from schemas.status import ApplicationStatus, ClearanceView, IssuedRevision, PermitStatusView

router = APIRouter(tags=["verification"])
log = structlog.get_logger("jfc.api")

PermitState = Literal["valid", "amended", "cancelled", "expired"]
NO_STORE = {"Cache-Control": "no-store", "Vary": "Accept"}  # a permit's or certificate's state changes: never stale
_CANCELLED = {ApplicationStatus.withdrawn, ApplicationStatus.rejected, ApplicationStatus.lapsed}
_ISSUED = {ApplicationStatus.issued, ApplicationStatus.completed}  # no amendment pending


class VerifiedShootDay(BaseModel):
    date: dt.date
    start: str = Field(examples=["06:00"])
    end: str = Field(examples=["18:00"])


class VerifiedLocation(BaseModel):
    name: str
    kind: str
    address: str
    city: str
    days: list[VerifiedShootDay]


class VerifiedClearance(BaseModel):
    agency: str
    name_id: str
    name_en: str
    outcome: str
    decided_at: dt.datetime | None = None
    conditions: list[str] = Field(default_factory=list)


class VerifiedFees(BaseModel):
    total_idr: int
    paid: bool
    paid_at: dt.datetime | None = None


class PermitVerification(BaseModel):
    """What anyone on site may know about a permit."""

    permit_number: str
    state: PermitState
    state_detail: str
    issued_at: dt.datetime
    first_shoot_date: dt.date | None = None
    last_shoot_date: dt.date | None = None
    production_title: str
    applicant_company: str
    amendment_pending: bool = Field(
        default=False, description="An amendment is being cleared: until it is issued, the permit stands as "
        "issued, with the places, dates and clearances listed here")
    locations: list[VerifiedLocation] = Field(
        default_factory=list, description="The places, dates and hours the permit was issued for")
    cleared_by: list[VerifiedClearance] = Field(default_factory=list)
    fees: VerifiedFees | None = Field(default=None, description="The fees paid for the permit as issued")
    checked_at: dt.datetime


def prefers_json(accept: str | None) -> bool:
    """True when the Accept header ranks application/json above text/html (HTML is the default)."""
    if not accept:
        return False
    weights: dict[str, float] = {}
    for item in accept.split(","):
        media, *params = item.split(";")
        q = 1.0
        for param in params:
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.strip().lower()
        weights[media] = max(q, weights.get(media, 0.0))
    json_q = max(weights.get("application/json", 0.0), weights.get("application/*", 0.0))
    html_q = max(weights.get("text/html", 0.0), weights.get("text/*", 0.0))
    return json_q > html_q


@router.get(
    "/v1/verify/{permit_number}",
    response_model=PermitVerification,
    summary="Verify a permit or an incentive certificate (public; HTML for browsers, JSON with Accept: "
            "application/json)",
    description="A permit number (`JFC-2026-…`) answers a PermitVerification; an incentive certificate number "
                "(`JFC-INC-2026-…-I…` interim, `…-F…` final) answers a CertificateVerification: its state (`valid`, "
                "`superseded`, `clawed_back`, `withdrawn`, `rejected`, `lapsed`, `expired`), programme, production, "
                "fiscal year and amount.",
    responses={
        **responses(404, 503),
        200: {"content": {"text/html": {"schema": {"type": "string"}}},
              "description": "The permit's (or certificate's) public facts"},
        404: {**responses(404)[404], "content": {"text/html": {"schema": {"type": "string"}}},
              "description": "No permit or certificate has this number (a problem document, or a page for browsers)"},
    },
)
async def verify_permit(
    permit_number: Annotated[str, Path(description="A permit number or an incentive certificate number")],
    ctx: Context,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    as_json = prefers_json(accept)
    if incentive_id_from_certificate_number(permit_number) is not None:
        from api import verify_certificates  # imported here: it builds on this module's page helpers

        return await answer(verify_certificates.certificate_verification(ctx, permit_number),
                            verify_certificates.render_html, verify_certificates.not_found_page(permit_number),
                            as_json)
    return await answer(_verification(ctx, permit_number), render_html, _not_found_page(permit_number), as_json)


async def answer(
    verification: Awaitable[BaseModel], render: Callable[[Any], str], not_found_page: str, as_json: bool
) -> Response:
    """The verification as JSON or as a page; an unknown number is a problem document, or `not_found_page`."""
    try:
        found = await verification
    except ApiProblem as problem:
        if as_json or problem.document.status != 404:
            raise
        return HTMLResponse(not_found_page, status_code=404, headers=NO_STORE)
    if as_json:
        return JSONResponse(found.model_dump(mode="json"), headers=NO_STORE)
    return HTMLResponse(render(found), headers=NO_STORE)


async def _verification(ctx: ApiContext, permit_number: str) -> PermitVerification:
    unknown = ApiProblem(
        404,
        "permit not found",
        "No permit has this number. Check it character by character; a permit not listed here is not valid.",
        kind="permit-not-found",
    )
    number = permit_number.strip().upper()
    application_id = application_id_from_permit_number(number)
    if application_id is None:
        raise unknown
    structlog.contextvars.bind_contextvars(application_id=application_id)
    status = await temporal.query_status(ctx.temporal, application_id, not_found=unknown)
    if status.permit is None or status.permit.number != number:
        raise unknown
    issued = issued_revision(status)
    locations = [  # as issued: an amendment's places and dates count only once they are cleared and paid for
        VerifiedLocation(
            name=loc.name,
            kind=loc.kind,
            address=loc.address,
            city=loc.city,
            days=[VerifiedShootDay(date=day.date, start=f"{day.start:%H:%M}", end=f"{day.end:%H:%M}") for day in loc.days],
        )
        for loc in (issued.locations if issued else [])
    ]
    dates = sorted(day.date for loc in locations for day in loc.days)
    first, last = (dates[0], dates[-1]) if dates else (None, None)
    pending = amendment_pending(status)
    state, detail = permit_state(status, ctx.today(), last)
    log.info("permit verified", state=state, amendment_pending=pending)
    fees = issued.fees if issued else None
    return PermitVerification(
        permit_number=status.permit.number,
        state=state,
        state_detail=detail,
        issued_at=status.permit.issued_at,
        first_shoot_date=first,
        last_shoot_date=last,
        production_title=status.production_title,
        applicant_company=status.applicant_company,
        amendment_pending=pending,
        locations=locations,
        cleared_by=_cleared_by(ctx, issued.clearances if issued else []),
        fees=VerifiedFees(total_idr=fees.total_idr, paid=fees.paid_at is not None, paid_at=fees.paid_at) if fees else None,
        checked_at=ctx.now(),
    )


def issued_revision(status: PermitStatusView) -> IssuedRevision | None:
    """What the permit was last issued for. A permit issued before the status view kept it: its current details,
    unless an amendment of them is pending (then nothing is known to be cleared, and nothing is shown)."""
    if status.issued is not None:
        return status.issued
    if status.permit is None or status.status not in _ISSUED:
        return None
    return IssuedRevision(revision=status.revision, issued_at=status.permit.issued_at, locations=status.locations,
                          clearances=status.clearances, fees=status.fees)


def amendment_pending(status: PermitStatusView) -> bool:
    """An amendment of the issued permit is being cleared (or paid for), and the application is still open."""
    if status.status in _CANCELLED or status.status == ApplicationStatus.completed:
        return False
    if status.issued is None:  # issued before the status view kept the issued revision
        return status.permit is not None and status.status not in _ISSUED
    return status.amendment_pending


def permit_state(status: PermitStatusView, today: dt.date, last_shoot_date: dt.date | None) -> tuple[PermitState, str]:
    """The permit's public state and a one-line explanation."""
    if status.status in _CANCELLED:
        return "cancelled", "This permit has been cancelled and is no longer valid."
    if last_shoot_date is not None and today > last_shoot_date:
        return "expired", f"This permit expired after its last shoot day, {last_shoot_date.isoformat()}."
    until = f" until {last_shoot_date.isoformat()}" if last_shoot_date else ""
    if amendment_pending(status):
        return "amended", (f"An amendment of this permit is pending; until it is cleared, the permit is valid{until} "
                           "only for the places, dates and hours below, as issued.")
    return "valid", f"This permit is valid{until} for the places, dates and hours below."


def _cleared_by(ctx: ApiContext, clearances: list[ClearanceView]) -> list[VerifiedClearance]:
    latest: dict[str, ClearanceView] = {}
    for clearance in clearances:
        if clearance.agency not in latest or clearance.revision >= latest[clearance.agency].revision:
            latest[clearance.agency] = clearance
    cleared = []
    for code, clearance in latest.items():
        if not clearance.status.is_approval:
            continue
        try:
            agency = ctx.rules.catalog.get(code)
            name_id, name_en = agency.name_id, agency.name_en
        except KeyError:
            name_id = name_en = code
        cleared.append(
            VerifiedClearance(
                agency=code,
                name_id=name_id,
                name_en=name_en,
                outcome=clearance.status.value,
                decided_at=clearance.decided_at,
                conditions=clearance.conditions,
            )
        )
    return cleared


# ---- HTML -------------------------------------------------------------------------

_STATE_LABEL = {
    "valid": ("Izin berlaku", "Valid permit", "#1b7f3b"),
    "amended": ("Izin berlaku, perubahan diproses", "Valid permit, amendment pending", "#8a6d00"),
    "cancelled": ("Izin dibatalkan", "Cancelled permit", "#b00020"),
    "expired": ("Izin kedaluwarsa", "Expired permit", "#555555"),
}

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f5f5f5;color:#222}
main{max-width:40rem;margin:0 auto;padding:1rem}
.state{color:#fff;border-radius:.5rem;padding:1rem;margin:0 0 1rem}
.state h1{margin:0;font-size:1.6rem}.state p{margin:.3rem 0 0}
section{background:#fff;border-radius:.5rem;padding:.8rem 1rem;margin:0 0 1rem}
h2{font-size:1rem;margin:.2rem 0 .5rem;color:#444}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}dt{color:#666}dd{margin:0}
ul{margin:.2rem 0;padding-left:1.2rem}small{color:#666}
.pending{border-left:.3rem solid #8a6d00}.pending p{margin:.2rem 0}
"""


def jakarta_time(moment: dt.datetime | None) -> str:
    """`2026-03-02 09:00 WIB`, or `-`."""
    if moment is None:
        return "-"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(JAKARTA).strftime("%Y-%m-%d %H:%M WIB")


def rupiah(amount: int) -> str:
    """`Rp 1.500.000`."""
    return "Rp " + f"{amount:,}".replace(",", ".")


def html_page(title: str, body: str) -> str:
    """A small, self-contained bilingual page around `body` (already escaped)."""
    return (
        '<!DOCTYPE html><html lang="id"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def render_html(v: PermitVerification) -> str:
    """A small, self-contained page; every value from the application is escaped."""
    label_id, label_en, colour = _STATE_LABEL[v.state]
    e = escape
    locations = "".join(
        f"<li><strong>{e(loc.name)}</strong> ({e(loc.kind)})<br>{e(loc.address)}, {e(loc.city)}<ul>"
        + "".join(f"<li>{e(day.date.isoformat())} {e(day.start)}–{e(day.end)} WIB</li>" for day in loc.days)
        + "</ul></li>"
        for loc in v.locations
    ) or "<li>-</li>"
    cleared = "".join(
        f"<li>{e(c.name_id)} <small>({e(c.name_en)})</small> — {e(c.outcome.replace('_', ' '))}"
        + ("<ul>" + "".join(f"<li>{e(cond)}</li>" for cond in c.conditions) + "</ul>" if c.conditions else "")
        + "</li>"
        for c in v.cleared_by
    ) or "<li>-</li>"
    if v.fees is None:
        fees = "-"
    elif v.fees.paid:
        fees = f"{e(rupiah(v.fees.total_idr))}, dibayar / paid {e(jakarta_time(v.fees.paid_at))}"
    else:
        fees = f"{e(rupiah(v.fees.total_idr))}, belum dibayar / not paid"
    body = (
        f'<div class="state" style="background:{colour}"><h1>{e(label_id)} / {e(label_en)}</h1>'
        f"<p>{e(v.state_detail)}</p></div>"
        + (_PENDING_NOTE if v.amendment_pending else "")
        + "<section><dl>"
        f"<dt>Nomor izin / Permit</dt><dd>{e(v.permit_number)}</dd>"
        f"<dt>Produksi / Production</dt><dd>{e(v.production_title)}</dd>"
        f"<dt>Perusahaan / Company</dt><dd>{e(v.applicant_company)}</dd>"
        f"<dt>Terbit / Issued</dt><dd>{e(jakarta_time(v.issued_at))}</dd>"
        f"<dt>Biaya / Fees</dt><dd>{fees}</dd>"
        "</dl></section>"
        f"<section><h2>Lokasi dan jam / Locations and hours</h2><ul>{locations}</ul></section>"
        f"<section><h2>Disetujui oleh / Cleared by</h2><ul>{cleared}</ul></section>"
        f"<p><small>Jakarta Film Commission · diperiksa / checked {e(jakarta_time(v.checked_at))}. "
        "Jangan membayar biaya di luar yang tercantum / Pay no fees beyond those listed.</small></p>"
    )
    return html_page(f"{v.permit_number} — {label_en}", body)


_PENDING_NOTE = (
    '<section class="pending"><p><strong>Perubahan sedang diproses / Amendment pending</strong></p>'
    "<p>Perubahan izin ini sedang diperiksa. Sampai perubahan itu disetujui dan dibayar, izin hanya berlaku untuk "
    "lokasi, tanggal dan jam di bawah ini, sebagaimana diterbitkan.</p>"
    "<p>An amendment of this permit is being cleared. Until it is cleared and paid for, the permit is valid only for "
    "the places, dates and hours below, as issued.</p></section>"
)


def _not_found_page(permit_number: str) -> str:
    body = (
        '<div class="state" style="background:#b00020"><h1>Izin tidak ditemukan / Permit not found</h1>'
        f"<p>{escape(permit_number)}</p></div>"
        "<section><p>Tidak ada izin dengan nomor ini. Izin yang tidak tercantum di sini tidak sah.</p>"
        "<p>No permit has this number. A permit not listed here is not valid.</p></section>"
    )
    return html_page("Permit not found", body)
