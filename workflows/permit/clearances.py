"""The application's clearances: one child workflow per agency and revision, and what each asks of its agency."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from temporalio import workflow

from schemas.agency_api import ClearanceRequest
from schemas.catalog import AgencyCode
from schemas.contracts import PermitWorkflowInput, RoutedAgency, clearance_workflow_id
from schemas.status import ClearanceStatus, ClearanceView

# Agencies that clear the foreign crew (design §2).
FOREIGN_CREW_AGENCIES = frozenset({AgencyCode.police.value, AgencyCode.culture_ministry.value})


class ChildPhase(StrEnum):
    waiting = "waiting"  # not started: it waits for its dependencies (or for the next step)
    starting = "starting"  # its workflow is being started
    running = "running"
    closed = "closed"  # its workflow ended, or it will never start (decided here, withdrawn unsent)


@dataclass
class Clearance:
    """One agency's clearance of one revision: the child workflow, and its latest view."""

    id: str  # the child workflow id, also the request's Idempotency-Key at the agency
    routed: RoutedAgency
    view: ClearanceView
    phase: ChildPhase = ChildPhase.waiting
    current: bool = True  # False once a newer revision replaced it or an amendment dropped its agency
    handle: workflow.ChildWorkflowHandle | None = None
    cancel_requested: bool = False

    @property
    def agency(self) -> str:
        return self.view.agency

    @property
    def revision(self) -> int:
        return self.view.revision

    @property
    def open(self) -> bool:
        return self.phase in (ChildPhase.starting, ChildPhase.running)

    def request_cancel(self) -> None:
        """Ask the workflow to cancel (it withdraws its request at the agency), once; one still starting is
        cancelled as soon as it has started."""
        if self.cancel_requested or not self.open:
            return
        self.cancel_requested = True
        if self.handle is not None:
            self.handle.cancel()


class Clearances:
    """Every clearance of the application, of every revision; the current ones in the plan's order."""

    def __init__(self, application_id: str) -> None:
        self._application_id = application_id
        self._all: dict[str, Clearance] = {}
        self._current: list[Clearance] = []

    def new(self, routed: RoutedAgency, revision: int) -> Clearance:
        """A clearance not started yet (waiting on its dependencies, or about to be submitted)."""
        code = routed.agency.code.value
        clearance = Clearance(
            id=clearance_workflow_id(self._application_id, code, revision),
            routed=routed,
            view=ClearanceView(
                agency=code, revision=revision, depends_on=list(routed.depends_on),
                status=ClearanceStatus.waiting_on_dependency if routed.depends_on else ClearanceStatus.submitting,
            ),
        )
        self._all[clearance.id] = clearance
        return clearance

    def set_current(self, clearances: list[Clearance]) -> None:
        """The clearances of the current revision, in order; every other one stops being current."""
        for clearance in self._current:
            clearance.current = False
        for clearance in clearances:
            clearance.current = True
        self._current = list(clearances)

    def current(self) -> list[Clearance]:
        return list(self._current)

    def views(self) -> list[ClearanceView]:
        return [c.view for c in self._current]

    def get(self, agency: str) -> Clearance | None:
        """The current clearance of `agency`."""
        return next((c for c in self._current if c.agency == agency), None)

    def find(self, agency: str, revision: int) -> Clearance | None:
        return self._all.get(clearance_workflow_id(self._application_id, agency, revision))

    def ready(self) -> list[Clearance]:
        """Current clearances not started yet whose dependencies have all approved."""
        approved = {c.agency for c in self._current if c.view.status.is_approval}
        return [
            c for c in self._current
            if c.phase is ChildPhase.waiting and not c.view.status.is_final
            and all(dep in approved for dep in c.view.depends_on)
        ]

    def open(self) -> list[Clearance]:
        """Clearances (of any revision) whose workflow is starting or running."""
        return [c for c in self._all.values() if c.open]

    def all_closed(self) -> bool:
        return not self.open()


def clearance_request(inp: PermitWorkflowInput, routed: RoutedAgency, request_key: str, revision: int) -> ClearanceRequest:
    """What we send to one agency: only its locations, the foreign crew only where that agency clears it."""
    app = inp.application
    code = routed.agency.code.value
    return ClearanceRequest(
        request_key=request_key,
        application_id=inp.application_id,
        agency=code,
        revision=revision,
        applicant_company=app.applicant.company,
        applicant_contact=app.applicant.contact_name,
        production=app.production,
        locations=[app.locations[i] for i in routed.location_indexes],
        foreign_crew=list(app.foreign_crew) if code in FOREIGN_CREW_AGENCIES else [],
        callback_url=f"{inp.callback_base_url.rstrip('/')}/v1/agencies/{code}/decisions",
    )


def agency_inputs(inp: PermitWorkflowInput, routed: RoutedAgency) -> ClearanceRequest:
    """What an agency sees of the application, without the revision's key: equal inputs need no new request."""
    return clearance_request(inp, routed, "", 0)
