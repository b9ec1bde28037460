"""The workflows' pure rules, without a server: review verdicts, officer decisions, amendments, payments, progress."""

from __future__ import annotations

import datetime as dt

import pytest
from wf_harness import DISTRICT, FEE_TOTAL, PARKS, POLICE, TRANSPORT, application, first_shoot_in, plan

from domain.ids import application_id_for_key, permit_number
from domain.jakarta import JAKARTA
from schemas.agency_api import AgencyRequestState, AgencyRequestStatus
from schemas.contracts import (
    INVALID_REQUEST,
    STATE_CONFLICT,
    ClearanceProgress,
    PermitWorkflowInput,
    RoutedAgency,
    clearance_workflow_id,
    parse_clearance_workflow_id,
)
from schemas.decisions import OfficerDecision, OfficerDecisionKind, Outcome, Payment
from schemas.problems import Problem
from schemas.status import (
    ApplicationStatus,
    ClearanceStatus,
    ClearanceView,
    FeeLine,
    Fees,
    OutageEpisode,
    RefundReason,
    SlaState,
)
from workflows.clearance import progress
from workflows.clearance.progress import Step
from workflows.permit import amendments, decisions, payments, review
from workflows.permit.clearances import ChildPhase, Clearances
from workflows.refusals import invalid_request, state_conflict

NOW = dt.datetime(2027, 1, 12, 9, 0, tzinfo=JAKARTA)


def view(agency: str = "parks", status: ClearanceStatus = ClearanceStatus.submitted, **fields) -> ClearanceView:
    return ClearanceView(agency=agency, status=status, **fields)


def decision(kind: str = "clearance", agency: str | None = "parks", outcome: str = "approved") -> OfficerDecision:
    return OfficerDecision(kind=OfficerDecisionKind(kind), agency=agency, outcome=Outcome(outcome), reason="checked",
                           officer="officer:ani")


def inputs(app=None) -> PermitWorkflowInput:
    return PermitWorkflowInput(application_id="PRM-ABCDEFGHIJKL", application=app or application(first_shoot_in(60)),
                               submitted_at=NOW, callback_base_url="https://api.test", public_base_url="https://jfc.test")


# ---- contracts ----------------------------------------------------------------------------


def test_a_clearance_workflow_id_parses_back_into_its_parts():
    key = parse_clearance_workflow_id(clearance_workflow_id("PRM-ABCDEFGHIJKL", "culture_ministry", 12))
    assert key == ("PRM-ABCDEFGHIJKL", "culture_ministry", 12)
    assert key.agency == "culture_ministry" and key.revision == 12
    for bad in ("PRM-X:parks", "PRM-X:parks:r0", "PRM-X:parks:2", "a:b:c:r1", ""):
        assert parse_clearance_workflow_id(bad) is None, bad


def test_refusals_carry_their_type_and_every_problem():
    error = invalid_request("amendment refused", [Problem(path="applicant.company", message="differs"),
                                                  Problem(path="locations[0].days[1].date", message="in the past")])
    assert error.type == INVALID_REQUEST and error.non_retryable
    assert error.details == ([{"path": "applicant.company", "message": "differs"},
                              {"path": "locations[0].days[1].date", "message": "in the past"}],)
    assert "applicant.company: differs" in error.message
    assert state_conflict("already withdrawn").type == STATE_CONFLICT


# ---- the review ---------------------------------------------------------------------------


def test_a_final_rejection_rejects_but_a_rejection_to_confirm_waits():
    waiting = view("parks", ClearanceStatus.rejected, reason="reseeding", rejection_to_confirm=True, needs_officer=True)
    assert review.verdict([waiting, view("district", ClearanceStatus.approved)]).status is None
    assert review.review_status([waiting]) == ApplicationStatus.officer_review
    final = review.verdict([waiting.model_copy(update={"rejection_to_confirm": False})])
    assert (final.status, final.reason) == (ApplicationStatus.rejected, "parks: reseeding")


def test_a_lapsed_request_lapses_and_all_approvals_approve():
    lapsed = view(status=ClearanceStatus.information_required, lapsed_at=NOW, reason="lapsed: no answer")
    assert review.verdict([lapsed]).status == ApplicationStatus.lapsed
    approvals = [view("parks", ClearanceStatus.approved), view("district", ClearanceStatus.deemed_approved),
                 view("fire", ClearanceStatus.approved_with_conditions)]
    assert review.verdict(approvals).approved
    assert review.verdict([]).approved  # nothing routed: nothing to wait for
    assert not review.verdict([*approvals, view("police")]).approved


def test_a_clearance_withdrawn_from_outside_is_flagged_for_an_officer_once():
    assert review.verdict([view(status=ClearanceStatus.withdrawn)]).to_flag == ["parks"]
    assert review.verdict([view(status=ClearanceStatus.withdrawn, needs_officer=True)]).to_flag == []


def test_the_next_deadline_skips_decided_and_lapsed_clearances():
    due = NOW + dt.timedelta(days=3)
    views = [view("parks", ClearanceStatus.approved, due_at=NOW),
             view("heritage", ClearanceStatus.information_required, information_deadline_at=NOW, lapsed_at=NOW),
             view("district", due_at=due)]
    assert review.next_deadline(views) == due
    assert review.next_deadline(views, NOW + dt.timedelta(days=1)) == NOW + dt.timedelta(days=1)
    assert review.next_deadline([]) is None


def test_view_changes_become_timeline_events_with_who_decided():
    old = view()
    new = view(status=ClearanceStatus.approved, decided_by="officer:ani", sla=SlaState.breached)
    assert review.view_change_events(old, new) == [("clearance_approved", "parks", "officer:ani"),
                                                   ("sla_breached", "parks", None)]
    flagged = view(status=ClearanceStatus.rejected, rejection_to_confirm=True, needs_officer=True, reason="no")
    assert ("rejection_to_confirm", "parks: no", None) in review.view_change_events(old, flagged)


# ---- officer decisions ------------------------------------------------------------------------


@pytest.mark.parametrize(("made", "views", "path"), [
    (decision("expedite", None), [], "kind"),
    (decision("clearance", None), [view()], "agency"),
    (decision("clearance", "fire"), [view()], "agency"),
    (decision("override"), [view()], "kind"),  # still open: nothing to override
    (decision("override", outcome="approved"), [view(status=ClearanceStatus.approved)], "outcome"),
    (decision("clearance"), [view(status=ClearanceStatus.approved)], "agency"),  # final: use override
    (decision("clearance", outcome="information_required"),
     [view(status=ClearanceStatus.rejected, rejection_to_confirm=True)], "outcome"),
])
def test_a_decision_that_does_not_fit_is_refused_at_its_field(made, views, path):
    found = decisions.problems(made, views, application_id="PRM-A", expedite_waiting=False)
    assert [p.path for p in found] == [path]


def test_decisions_that_fit_are_allowed():
    ok = [(decision("expedite", None, "rejected"), [], True),
          (decision("clearance"), [view()], False),
          (decision("override", outcome="rejected"), [view(status=ClearanceStatus.approved)], False),
          (decision("clearance", outcome="approved"), [view(status=ClearanceStatus.rejected, rejection_to_confirm=True)],
           False)]
    for made, views, waiting in ok:
        assert decisions.problems(made, views, application_id="PRM-A", expedite_waiting=waiting) == []


def test_an_override_keeps_what_it_replaced_and_who_decided():
    rejected = view(status=ClearanceStatus.rejected, reason="festival", rejection_to_confirm=True, needs_officer=True,
                    decided_at=NOW)
    new = decisions.overridden(rejected, decision(outcome="approved"), NOW + dt.timedelta(hours=1))
    assert new.status == ClearanceStatus.approved and new.decided_by == "officer:ani"
    assert not new.needs_officer and not new.rejection_to_confirm and new.decided_at == NOW
    assert new.reason == "officer override by officer:ani: checked (agency rejected: festival)"


def test_an_officer_deciding_here_judges_the_sla_at_that_moment():
    due = NOW - dt.timedelta(hours=1)
    decided = decisions.decided_here(view(due_at=due, sla=SlaState.breached), decision(), NOW)
    assert (decided.status, decided.decided_at, decided.sla, decided.breached_at) == (
        ClearanceStatus.approved, NOW, SlaState.breached, NOW)
    on_time = decisions.decided_here(view(due_at=NOW + dt.timedelta(days=1)), decision(), NOW)
    assert on_time.sla == SlaState.met and on_time.breached_at is None


# ---- amendments ---------------------------------------------------------------------------------


def test_an_amendment_may_not_move_company_or_add_past_days_and_must_change_something():
    app = application(first_shoot_in(30))
    other = app.model_copy(update={"applicant": app.applicant.model_copy(update={"company": "PT Lain"})})
    assert [p.path for p in amendments.problems(app, other, NOW.date())] == ["applicant.company"]
    assert [p.path for p in amendments.problems(app, app, NOW.date())] == ["application"]
    late = app.locations[0].days[0].date + dt.timedelta(days=1)
    assert [p.path for p in amendments.problems(app, app, late)] == ["application"]  # days already shot may stay


def test_a_revision_asks_again_only_the_agencies_whose_inputs_changed():
    old_app = application(first_shoot_in(30))
    old_plan = plan((PARKS, [], [0]), (DISTRICT, [], [1]), (POLICE, [], [1]))
    locations = list(old_app.locations)
    locations[1] = locations[1].model_copy(update={"crew_size": 80})
    new_app = old_app.model_copy(update={"locations": locations})
    new_plan = plan((PARKS, [], [0]), (DISTRICT, [], [1]), (TRANSPORT, [], [1]))
    change = amendments.revise(inputs(old_app), old_plan, inputs(new_app), new_plan, 2)
    assert (change.result.kept, change.result.requested_again, change.result.added, change.result.withdrawn) == (
        ["parks"], ["district"], ["transport"], ["police"])
    assert [r.agency.code.value for r in change.ask] == ["district", "transport"]
    assert change.order == ["parks", "district", "transport"]


def fees(total: int, paid_at: dt.datetime | None = None) -> Fees:
    return Fees(schedule_version="v", total_idr=total, paid_at=paid_at, payment_id="p" if paid_at else None,
                lines=[FeeLine(description="day", location="x", days=1, unit_idr=total, amount_idr=total)])


def test_a_revision_is_due_only_the_fee_difference():
    same = amendments.fee_change(fees(100, NOW), fees(100), 100, 2)
    assert (same.due_idr, same.detail, same.fees.paid_at) == (0, None, NOW)
    more = amendments.fee_change(fees(100, NOW), fees(150), 100, 2)
    assert more.due_idr == 50 and more.fees.paid_at is None and "due 50 IDR" in more.detail
    less = amendments.fee_change(fees(100, NOW), fees(60), 100, 2)
    assert less.due_idr == 0 and less.fees.paid_at == NOW and "refunded" in less.detail


# ---- payments -----------------------------------------------------------------------------------


def test_a_payment_settles_when_it_names_the_application_or_its_permit_and_pays_what_is_due():
    app_id = application_id_for_key("payments")
    number = permit_number(app_id, 2027)

    def found(permit_id: str, amount: int = FEE_TOTAL) -> payments.PaymentMatch:
        payment = Payment(payment_id="PAY-1", permit_id=permit_id, amount_idr=amount, paid_at=NOW)
        return payments.match(payment, application_id=app_id, due_idr=FEE_TOTAL)

    assert found(app_id).accepted and found(number).accepted and found(f" {number.lower()} ").accepted
    assert found(permit_number(app_id, 2031)).accepted  # any year's number leads back to it
    other = application_id_for_key("another")
    assert (found(other).accepted, found(other).reason) == (False, RefundReason.other_application)
    assert found(permit_number(other, 2027)).reason == RefundReason.other_application
    assert found(number[:-1] + ("A" if number[-1] != "A" else "B")).reason == RefundReason.other_application  # check
    for amount in (FEE_TOTAL - 1, FEE_TOTAL + 1):
        assert (found(app_id, amount).accepted, found(app_id, amount).reason) == (False, RefundReason.wrong_amount)
    assert f"expected {FEE_TOTAL} IDR" in found(app_id, 1).problem


# ---- the clearances registry ------------------------------------------------------------------


def test_only_clearances_whose_dependencies_approved_are_ready():
    registry = Clearances("PRM-A")
    transport = registry.new(RoutedAgency(agency=TRANSPORT, location_indexes=[0], reasons=["x"]), 1)
    police = registry.new(RoutedAgency(agency=POLICE, depends_on=["transport"], location_indexes=[0], reasons=["x"]), 1)
    registry.set_current([transport, police])
    assert police.view.status == ClearanceStatus.waiting_on_dependency
    assert registry.ready() == [transport]
    transport.phase = ChildPhase.running
    transport.view = transport.view.model_copy(update={"status": ClearanceStatus.approved})
    assert registry.ready() == [police]
    assert registry.open() == [transport] and not registry.all_closed()
    transport.request_cancel()
    transport.request_cancel()  # once only; with no handle yet, it is cancelled when it has started
    assert transport.cancel_requested


# ---- a clearance's progress ---------------------------------------------------------------------


def progress_of(**view_fields) -> ClearanceProgress:
    return ClearanceProgress(view=view(**view_fields))


def test_the_step_follows_from_the_progress():
    assert progress.step(progress_of(status=ClearanceStatus.submitting)) is Step.submit
    refused = progress_of(status=ClearanceStatus.submitting)
    refused.refused = True
    assert progress.step(refused) is Step.refused
    assert progress.step(progress_of(accepted_at=NOW)) is Step.decision
    assert progress.step(progress_of(status=ClearanceStatus.information_required, accepted_at=NOW)) is Step.answer
    assert progress.step(progress_of(status=ClearanceStatus.information_required, lapsed_at=NOW)) is Step.done
    assert progress.step(progress_of(status=ClearanceStatus.withdrawn)) is Step.done


def test_webhook_agencies_are_polled_only_once_their_webhook_is_overdue():
    webhook = PARKS.model_copy(update={"reconcile_after_minutes": 60, "poll_interval_minutes": 180})
    first = progress.poll_delay(webhook, None)
    assert first == dt.timedelta(minutes=60)
    assert progress.poll_delay(webhook, first) == dt.timedelta(minutes=120)
    assert progress.poll_delay(webhook, dt.timedelta(minutes=120)) == dt.timedelta(minutes=180)  # the interval at most
    poll = DISTRICT.model_copy(update={"first_poll_seconds": 10})
    assert progress.poll_delay(poll, None) == dt.timedelta(seconds=10)


def test_failed_attempts_back_off_within_one_episode_and_honour_retry_after():
    p = progress_of(status=ClearanceStatus.submitting)
    delays = [progress.failed_attempt(p, NOW + dt.timedelta(minutes=i), None) for i in range(3)]
    assert delays == [dt.timedelta(seconds=1), dt.timedelta(seconds=2), dt.timedelta(seconds=4)]
    assert progress.failed_attempt(p, NOW, dt.timedelta(minutes=7)) == dt.timedelta(minutes=7)
    # a Retry-After longer than the longest backoff waits the longest backoff (a year would pause it a year)
    assert progress.failed_attempt(p, NOW, dt.timedelta(days=365)) == dt.timedelta(minutes=10)
    assert p.view.outages == [OutageEpisode(started_at=NOW, failed_attempts=5)] and p.view.failed_attempts == 5
    progress.recovered(p, NOW + dt.timedelta(hours=1))
    assert p.view.outages[0].recovered_at == NOW + dt.timedelta(hours=1)
    assert progress.failed_attempt(p, NOW + dt.timedelta(hours=2), None) == dt.timedelta(seconds=1)
    assert len(p.view.outages) == 2  # a new episode after the recovery


def test_the_officer_hears_once_of_a_retry_after_longer_than_we_wait():
    p = progress_of(status=ClearanceStatus.submitting)
    assert not progress.retry_after_to_tell(p, None)
    assert not progress.retry_after_to_tell(p, dt.timedelta(minutes=10))  # within what we wait anyway
    assert progress.retry_after_to_tell(p, dt.timedelta(days=365))
    assert not progress.retry_after_to_tell(p, dt.timedelta(days=365))  # once
    assert p.retry_after_told


def test_the_parent_is_told_of_changes_but_not_of_each_failed_attempt():
    down = view(status=ClearanceStatus.agency_unreachable, failed_attempts=1,
                outages=[OutageEpisode(started_at=NOW, failed_attempts=1)])
    later = down.model_copy(update={"failed_attempts": 9, "outages": [OutageEpisode(started_at=NOW, failed_attempts=9)]})
    assert progress.worth_telling(None, down)
    assert not progress.worth_telling(down, later)
    assert progress.worth_telling(later, later.model_copy(update={"status": ClearanceStatus.submitted}))


def test_a_polled_decision_keeps_the_agencies_decision_id():
    status = AgencyRequestStatus(reference="R-1", status=AgencyRequestState.approved, decided_at=NOW,
                                 decision_id="DEC-1")
    found = progress.polled_decision(status, "PRM-A:parks:r1", NOW)
    assert (found.decision_id, found.status, found.decided_at) == ("DEC-1", Outcome.approved, NOW)
    anonymous = progress.polled_decision(status.model_copy(update={"decision_id": None}), "PRM-A:parks:r1", NOW)
    assert anonymous.decision_id == f"poll:approved:{NOW.isoformat()}"  # the same poll result twice: one id
    undecided = status.model_copy(update={"status": AgencyRequestState.received})
    assert progress.polled_decision(undecided, "PRM-A:parks:r1", NOW) is None
