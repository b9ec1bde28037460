"""The incentive as its workflow keeps it: the state and every change to its status view, with its deadlines.

Synchronous and pure but for `workflow.now()`: no activity, no timer.
"""

from __future__ import annotations

import datetime as dt

from temporalio import workflow

from domain.jakarta import JAKARTA
from schemas.incentive_contracts import IncentiveWorkflowInput
from schemas.incentives import IncentiveStatus, IncentiveStatusView, Programme
from schemas.status import TimelineEvent
from workflows.incentive.state import Closing, IncentiveState, Phase

END_OF_DAY = dt.time(23, 59, 59)


def end_of_day(day: dt.date) -> dt.datetime:
    """23:59:59 Asia/Jakarta on `day`: a deadline that day still meets."""
    return dt.datetime.combine(day, END_OF_DAY, tzinfo=JAKARTA)


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day and time `months` later (the last day of a shorter month)."""
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    days = [31, 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30,
            31, 30, 31][month - 1]
    return moment.replace(year=year, month=month, day=min(moment.day, days))


class Incentive:
    """One incentive application: its state and timeline, changed together."""

    def __init__(self, input: IncentiveWorkflowInput) -> None:
        self.s = IncentiveState(input=input, shoot_dates=input.permit.shoot_dates if input.permit else [])

    @property
    def programme(self) -> Programme:
        return self.s.input.programme.code

    def status(self) -> IncentiveStatusView:
        s, inp = self.s, self.s.input
        return IncentiveStatusView(
            id=s.incentive_id, programme=inp.programme.code, programme_version=inp.programme.version,
            status=s.status, organisation_id=inp.organisation_id, permit_id=inp.application.permit_id,
            fiscal_year=inp.application.fiscal_year, submitted_at=inp.submitted_at,
            production_title=self.production_title(), eligibility=s.eligibility,
            rate=s.rate, estimated_idr=s.estimated_idr, reserved_idr=s.reserved_idr, paid_idr=s.paid_idr,
            clawed_back_idr=s.clawed_back_idr, tranches=s.tranches, claim=s.claim, audit=s.audit,
            committee=s.committee, certificates=s.certificates,
            call_id=inp.application.project.call_id if inp.application.project else None,
            score=s.call_result.score if s.call_result else None,
            next_deadline=None if s.ended else s.deadline, timeline=s.timeline,
        )

    def production_title(self) -> str:
        """The linked permit's title, when the permit is the applicant's own (never another organisation's)."""
        permit = self.s.input.permit
        own = permit is not None and permit.organisation_id is not None and \
            permit.organisation_id == self.s.input.organisation_id
        return permit.production_title if own else ""

    def event(self, event: str, detail: str = "", actor: str | None = None) -> None:
        self.s.timeline.append(TimelineEvent(at=workflow.now(), event=event, detail=detail, actor=actor))
        self.touch()

    def set_status(self, status: IncentiveStatus, detail: str = "") -> None:
        if status != self.s.status:
            self.s.status = status
            self.event(status.value, detail)

    def touch(self) -> None:
        """The status view changed: a new version for the projector."""
        self.s.version += 1

    # ---- where the lifecycle goes next ------------------------------------------------------

    def closing(self, status: IncentiveStatus, reason: str) -> Phase:
        self.s.closing = Closing(status=status, reason=reason)
        return Phase.closing

    def interrupted(self) -> bool:
        """The applicant withdrew, or the linked permit closed (rejected, withdrawn, lapsed)."""
        return self.s.withdrawal is not None or self.s.permit_closed is not None

    def after_interrupt(self) -> Phase:
        s = self.s
        if s.withdrawal is not None:
            return self.closing(IncentiveStatus.withdrawn, s.withdrawal.reason)
        assert s.permit_closed is not None
        return self.closing(IncentiveStatus.withdrawn, f"the linked permit {s.input.application.permit_id} was "
                                                       f"{s.permit_closed.status}")

    # ---- deadlines (calendar days, Asia/Jakarta) ---------------------------------------------------

    def photography_deadline(self) -> dt.datetime:
        """A reservation (or a place in the waiting list) not followed by photography by then expires."""
        first = self.s.shoot_dates[0] if self.s.shoot_dates else workflow.now().astimezone(JAKARTA).date()
        return end_of_day(first + dt.timedelta(days=self.s.input.programme.reservation_expiry_days))

    def claim_deadline(self) -> dt.datetime | None:
        """The audited claim or the short report is due this many days after the last shoot day."""
        rules = self.s.input.programme
        days = (rules.rebate.claim_due_days if rules.rebate else
                rules.shooting_days.report_due_days if rules.shooting_days else None)
        if days is None or not self.s.shoot_dates:
            return None
        return end_of_day(self.s.shoot_dates[-1] + dt.timedelta(days=days))
