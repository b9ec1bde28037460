"""What an agency clerk is shown of an application it may see (api.access.shown_to)."""

from __future__ import annotations

import datetime as dt

from api.access import shown_to
from schemas.status import ApplicationStatus, ClearanceStatus, ClearanceView, PaymentOutcome, PaymentView, PermitStatusView
from store.accounts import Principal, Role

T0 = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)


def test_a_clerk_sees_no_payments_and_an_officer_sees_them_all() -> None:
    payment = PaymentView(payment_id="PAY-1", permit_id="PRM-RECORDS0001", amount_idr=3_000_000, paid_at=T0,
                          received_at=T0 + dt.timedelta(minutes=1), outcome=PaymentOutcome.matched)
    view = PermitStatusView(
        id="PRM-RECORDS0001", status=ApplicationStatus.in_review, rule_set="2026.1", submitted_at=T0,
        production_title="Senja di Kota", applicant_company="PT Contoh Film", payments=[payment],
        clearances=[ClearanceView(agency=agency, status=ClearanceStatus.submitted, requested_at=T0)
                    for agency in ("parks", "police")])
    clerk = Principal(account_id="ACC-1", name="Parks desk", role=Role.agency, agency="parks")
    officer = Principal(account_id="ACC-2", name="Ani", role=Role.officer)

    assert shown_to(clerk, view).payments == []
    assert [c.agency for c in shown_to(clerk, view).clearances] == ["parks"]
    assert shown_to(officer, view).payments == [payment]
