"""Test harness for the permit and clearance workflows: an in-memory agency world as fake activities.

The fakes use `activity.info().current_attempt_scheduled_time` as "now", which follows the
time-skipping server's clock. Deadlines use the real `domain.calendar`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import (
    Interceptor,
    StartChildWorkflowInput,
    Worker,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

from activities.parties import outage
from domain.planning import plan_calendar, with_calendar
from domain import calendar
from schemas.agency_api import AgencyRequestState, AgencyRequestStatus
from schemas.application import (
    Applicant,
    ForeignCrewMember,
    Insurance,
    Location,
    LocationKind,
    PermitApplication,
    Production,
    ProductionKind,
    RoadUse,
    ShootDay,
)
from schemas.catalog import Agency, AgencyCode, DeliveryMode
from schemas.contracts import (
    BUSINESS_DAYS_BETWEEN,
    COMPUTE_BUSINESS_DEADLINE,
    COMPUTE_SLA_DEADLINES,
    GET_CLEARANCE_STATUS,
    ISSUE_PERMIT_DOCUMENT,
    NOTIFY,
    PLAN_APPLICATION,
    RECORD_APPLICATION,
    SEND_INFORMATION_ANSWER,
    SUBMIT_CLEARANCE,
    WITHDRAW_CLEARANCE,
    AgencyCallInput,
    AgencyStatusResult,
    ApplicationPlan,
    BusinessDaysBetweenInput,
    BusinessDeadlineInput,
    ClearanceWorkflowInput,
    InformationAnswerInput,
    IssueDocumentInput,
    IssueDocumentResult,
    Notification,
    Notifications,
    PermitWorkflowInput,
    PlanInput,
    ProjectionInput,
    QUERY_STATUS,
    SIGNAL_AGENCY_DECISION,
    SIGNAL_INFORMATION_ANSWER,
    SIGNAL_OFFICER_DECISION,
    SIGNAL_PAYMENT,
    RoutedAgency,
    SlaDeadlines,
    SlaDeadlinesInput,
    SubmitClearanceInput,
    SubmitClearanceResult,
    clearance_workflow_id,
)
from schemas.decisions import AgencyDecision, InformationAnswer, OfficerDecision, OfficerDecisionKind, Outcome
from schemas.decisions import Payment
from schemas.status import FeeLine, Fees, PermitInfo, PermitStatusView
from workers.logic_flags import with_single_batch_activations
from workers.sandbox import workflow_runner
from workflows.clearance import AgencyClearanceWorkflow
from workflows.permit import PermitApplicationWorkflow

WORKFLOWS = [PermitApplicationWorkflow, AgencyClearanceWorkflow]
FEE_TOTAL = 2_500_000


def agency(code: str, *, sla_days: int = 5, consent: bool = True, mode: str = "webhook", grace_days: int = 5) -> Agency:
    return Agency(
        code=AgencyCode(code),
        name_id=f"Dinas {code}",
        name_en=f"{code} agency",
        base_url=f"http://agencies.test/{code}",
        mode=DeliveryMode(mode),
        sla_days=sla_days,
        grace_days=grace_days,
        silence_is_consent=consent,
        # A poll agency is polled every 30 minutes; a webhook agency's status is checked an hour after acceptance
        # (a lost webhook), then daily: weeks of skipped time stay a few hundred events.
        poll_interval_minutes=30 if mode == "poll" else 24 * 60,
        reconcile_after_minutes=60,
        webhook_secret_ref=code,
    )


PARKS = agency("parks", sla_days=5, consent=True)
DISTRICT = agency("district", sla_days=3, consent=True, mode="poll")
TRANSPORT = agency("transport", sla_days=5, consent=False)
POLICE = agency("police", sla_days=14, consent=False)
CULTURE = agency("culture_ministry", sla_days=7, consent=False)


def application(first_shoot: dt.date, *, foreign: bool = False) -> PermitApplication:
    days = [ShootDay(date=first_shoot + dt.timedelta(days=i), start=dt.time(6), end=dt.time(18)) for i in range(2)]
    return PermitApplication(
        applicant=Applicant(company="PT Contoh Film", country="ID", contact_name="Sari", email="sari@contoh.id", phone="+62 812 0000 0000"),
        production=Production(title="Senja di Kota", kind=ProductionKind.feature_film),
        locations=[
            Location(name="Taman Suropati", kind=LocationKind.park, address="Menteng", city="Jakarta Pusat",
                     lat=-6.1995, lon=106.8325, days=days, crew_size=40, vehicles=2),
            Location(name="Jalan Sabang", kind=LocationKind.public_street, address="Sabang", city="Jakarta Pusat",
                     lat=-6.185, lon=106.826, days=days, crew_size=60, vehicles=8, road_use=RoadUse.full_closure),
        ],
        foreign_crew=[ForeignCrewMember(name="Kim", nationality="KR", passport_number="M1234567", role="director")] if foreign else [],
        insurance=Insurance(insurer="PT Asuransi", policy_number="P-1", coverage_idr=5_000_000_000,
                            valid_until=first_shoot + dt.timedelta(days=30)),
    )


def plan(*routed: tuple[Agency, list[str], list[int]], lead_time_ok: bool = True) -> ApplicationPlan:
    return ApplicationPlan(
        rule_set="test-2026.1",
        agencies=[RoutedAgency(agency=a, depends_on=deps, location_indexes=idx, reasons=["test"]) for a, deps, idx in routed],
        lead_time_business_days=14,
        earliest_feasible_start=dt.date(2027, 1, 4),
        lead_time_ok=lead_time_ok,
        fees=Fees(schedule_version="fees-test", total_idr=FEE_TOTAL,
                  lines=[FeeLine(description="park day", location="Taman Suropati", days=2, unit_idr=1_250_000, amount_idr=FEE_TOTAL)]),
        information_reply_business_days=10,
        payment_business_days=5,
    )


@dataclass
class AgencyRequest:
    agency: str
    key: str
    reference: str
    received_at: dt.datetime
    times_seen: int = 1
    status: AgencyRequestState = AgencyRequestState.received
    decision_id: str | None = None
    locations: list[str] = field(default_factory=list)
    foreign_crew: int = 0
    callback_url: str = ""


@dataclass
class FakeWorld:
    """Agencies, planning, documents and notifications, all in memory."""

    plan: ApplicationPlan
    requests: dict[str, AgencyRequest] = field(default_factory=dict)
    submit_attempts: dict[str, int] = field(default_factory=dict)
    outage_until: dict[str, dt.datetime] = field(default_factory=dict)
    refuse: set[str] = field(default_factory=set)
    retry_after: dict[str, dt.timedelta] = field(default_factory=dict)  # what an agency asks in Retry-After
    lose_first_response: set[str] = field(default_factory=set)
    withdrawn: list[str] = field(default_factory=list)
    status_polls: list[tuple[str, dt.datetime]] = field(default_factory=list)  # (request key, when), every GET
    withdraw_attempts: dict[str, int] = field(default_factory=dict)  # every DELETE tried, by request key
    deletes: dict[str, int] = field(default_factory=dict)  # DELETEs that reached the agency, by request key
    planner: Callable[[PlanInput], ApplicationPlan] | None = None  # plans by the application (amendments)
    plan_without_calendar: bool = False  # the plan records no calendar: deadlines come from the deadline activities
    plans_asked: int = 0  # times the planning activity ran
    answers: list[InformationAnswerInput] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    issued: list[IssueDocumentInput] = field(default_factory=list)
    projections: dict[str, dict[int, PermitStatusView]] = field(default_factory=dict)
    record_failures: int = 0  # the next N projections fail as if PostgreSQL were down

    # -- agency API --

    @activity.defn(name=SUBMIT_CLEARANCE)
    async def submit(self, input: SubmitClearanceInput) -> SubmitClearanceResult:
        now = activity.info().current_attempt_scheduled_time
        code, key = input.agency.code.value, input.request.request_key
        self.submit_attempts[code] = self.submit_attempts.get(code, 0) + 1
        if code in self.outage_until and now < self.outage_until[code]:
            raise outage(f"{code}: 503 Service Unavailable", self.retry_after.get(code))  # as the real activity
        if code in self.refuse:
            raise ApplicationError(f"{code}: 422 locations[0].lat outside the district", type="AgencyRefused", non_retryable=True)
        if key in self.requests:
            self.requests[key].times_seen += 1
        else:
            self.requests[key] = AgencyRequest(
                agency=code, key=key, reference=f"{code.upper()}-{len(self.requests) + 1:04d}", received_at=now,
                locations=[loc.name for loc in input.request.locations], foreign_crew=len(input.request.foreign_crew),
                callback_url=input.request.callback_url,
            )
        if code in self.lose_first_response:  # processed, but the 2xx never reached us
            self.lose_first_response.discard(code)
            raise ApplicationError(f"{code}: connection reset", type="AgencyUnavailable")
        return SubmitClearanceResult(reference=self.requests[key].reference)

    @activity.defn(name=GET_CLEARANCE_STATUS)
    async def get_status(self, input: AgencyCallInput) -> AgencyStatusResult:
        self.status_polls.append((input.request_key, activity.info().current_attempt_scheduled_time))
        req = self.requests[input.request_key]
        decided = None if req.status == AgencyRequestState.received else activity.info().current_attempt_scheduled_time
        return AgencyStatusResult(
            status=AgencyRequestStatus(reference=req.reference, status=req.status, decided_at=decided, decision_id=req.decision_id)
        )

    @activity.defn(name=WITHDRAW_CLEARANCE)
    async def withdraw(self, input: AgencyCallInput) -> None:
        now = activity.info().current_attempt_scheduled_time
        code, key = input.agency.code.value, input.request_key
        self.withdraw_attempts[key] = self.withdraw_attempts.get(key, 0) + 1
        if code in self.outage_until and now < self.outage_until[code]:
            raise ApplicationError(f"{code}: 503 Service Unavailable", type="AgencyUnavailable")
        self.deletes[key] = self.deletes.get(key, 0) + 1
        self.requests[key].status = AgencyRequestState.withdrawn
        self.withdrawn.append(key)

    @activity.defn(name=SEND_INFORMATION_ANSWER)
    async def send_answer(self, input: InformationAnswerInput) -> None:
        self.answers.append(input)

    # -- deadlines (the real calendar) --

    @activity.defn(name=COMPUTE_SLA_DEADLINES)
    async def sla_deadlines(self, input: SlaDeadlinesInput) -> SlaDeadlines:
        return calendar.sla_deadlines(input.accepted_at, input.sla_days, input.grace_days, input.paused_business_days)

    @activity.defn(name=COMPUTE_BUSINESS_DEADLINE)
    async def business_deadline(self, input: BusinessDeadlineInput) -> dt.datetime:
        return calendar.business_deadline(input.start, input.business_days)

    @activity.defn(name=BUSINESS_DAYS_BETWEEN)
    async def business_days_between(self, input: BusinessDaysBetweenInput) -> int:
        return calendar.business_days_between(input.start, input.end)

    # -- the rest --

    @activity.defn(name=PLAN_APPLICATION)
    async def plan_application(self, input: PlanInput) -> ApplicationPlan:
        self.plans_asked += 1
        plan = self.planner(input) if self.planner is not None else self.plan
        # The real activity's calendar, unless the test's plan has one (or none on purpose: `calendar=None` kept)
        return plan if plan.calendar is not None or self.plan_without_calendar else plan.model_copy(
            update={"calendar": plan_calendar(input.application, input.submitted_at)})

    @activity.defn(name=ISSUE_PERMIT_DOCUMENT)
    async def issue(self, input: IssueDocumentInput) -> IssueDocumentResult:
        self.issued.append(input)
        number = f"JFC-{input.issued_at.year}-TEST"
        return IssueDocumentResult(
            permit=PermitInfo(number=number, issued_at=input.issued_at, document_url=f"{input.public_base_url}/doc",
                              verify_url=f"{input.public_base_url}/v1/verify/{number}"),
            sha256="0" * 64,
        )

    @activity.defn(name=NOTIFY)
    async def notify(self, input: Notifications) -> None:
        self.notifications.extend(input.items)

    # -- the read model (in memory: every snapshot by workflow id and seq) --

    @activity.defn(name=RECORD_APPLICATION)
    async def record(self, input: ProjectionInput) -> bool:
        if self.record_failures > 0:
            self.record_failures -= 1
            raise ApplicationError("read model unavailable: ConnectionRefusedError", type="ReadModelUnavailable")
        stored = self.projections.setdefault(input.workflow_id, {})
        if stored and max(stored) >= input.seq:
            return False
        stored[input.seq] = input.view
        return True

    def projected(self, workflow_id: str) -> PermitStatusView | None:
        """The read model's view of an application: its snapshot with the highest seq."""
        stored = self.projections.get(workflow_id)
        return stored[max(stored)] if stored else None

    def activities(self) -> list[Callable[..., Any]]:
        return [self.submit, self.get_status, self.withdraw, self.send_answer, self.sla_deadlines, self.business_deadline,
                self.business_days_between, self.plan_application, self.issue, self.notify, self.record]

    def kinds(self, audience: str | None = None) -> list[str]:
        return [n.kind for n in self.notifications if audience is None or n.audience == audience]

    def request_for(self, code: str) -> AgencyRequest | None:
        return next((r for r in self.requests.values() if r.agency == code), None)


@dataclass
class Run:
    """One permit application under test."""

    env: WorkflowEnvironment
    world: FakeWorld
    handle: WorkflowHandle
    app_id: str

    @property
    def client(self) -> Client:
        return self.env.client

    def child_id(self, code: str, revision: int = 1) -> str:
        return clearance_workflow_id(self.app_id, code, revision)

    async def status(self) -> PermitStatusView:
        return await self.handle.query(QUERY_STATUS, result_type=PermitStatusView)

    def clearance(self, view: PermitStatusView, code: str):
        return next(c for c in view.clearances if c.agency == code)

    async def until(self, pred: Callable[[PermitStatusView], bool], what: str, timeout: float = 5.0) -> PermitStatusView:
        """Query until `pred` holds (real time; workflow time does not move meanwhile)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            view = await self.status()
            try:
                holds = pred(view)
            except (StopIteration, AttributeError, TypeError):  # e.g. a clearance not planned yet
                holds = False
            if holds:
                return view
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what}; status {view.status}, clearances "
                                     f"{[(c.agency, c.status.value, c.sla) for c in view.clearances]}")
            await asyncio.sleep(0.03)

    async def eventually(self, check: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
        """Wait (real time) until `check()` holds on the fake world."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not check():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.03)

    async def accepted(self, code: str) -> PermitStatusView:
        return await self.until(lambda v: self.clearance(v, code).accepted_at is not None, f"{code} accepted")

    async def skip_to(self, moment: dt.datetime) -> None:
        """Advance the time-skipping server's clock to `moment` (no-op when already past)."""
        now = await self.env.get_current_time()
        if moment > now:
            await self.env.sleep(moment - now)

    async def decide(
        self, code: str, outcome: Outcome, decision_id: str | None = None, revision: int = 1, **kw: Any
    ) -> AgencyDecision:
        req = self.world.requests.get(self.child_id(code, revision))
        assert req is not None, f"no request at {code} (revision {revision})"
        decision = AgencyDecision(
            decision_id=decision_id or f"{code}-{uuid.uuid4().hex[:8]}", reference=req.reference, request_key=req.key,
            status=outcome, decided_at=await self.env.get_current_time(), **kw,
        )
        await self.client.get_workflow_handle(self.child_id(code, revision)).signal(SIGNAL_AGENCY_DECISION, decision)
        return decision

    async def officer_decides(self, code: str, outcome: Outcome, reason: str, officer: str = "officer:dewi") -> None:
        """An officer's decision as the permit workflow forwards it to the clearance (the time-skipping server
        has no updates; the `decide` update itself is tested on the dev server)."""
        decision = OfficerDecision(kind=OfficerDecisionKind.clearance, agency=code, outcome=outcome, reason=reason,
                                   officer=officer)
        await self.client.get_workflow_handle(self.child_id(code)).signal(SIGNAL_OFFICER_DECISION, decision)

    async def answer(self, code: str, request_id: str, answer: str) -> None:
        """The applicant's answer as the permit workflow forwards it to the clearance that asked."""
        await self.client.get_workflow_handle(self.child_id(code)).signal(
            SIGNAL_INFORMATION_ANSWER, InformationAnswer(request_id=request_id, answer=answer))

    async def pay(self, amount: int, payment_id: str = "pay-1", permit_id: str | None = None) -> None:
        """The payment provider's webhook, as the API signals it."""
        await self.handle.signal(SIGNAL_PAYMENT, Payment(
            payment_id=payment_id, permit_id=permit_id or self.app_id, amount_idr=amount,
            paid_at=await self.env.get_current_time()))


class ClearanceInputs(Interceptor):
    """Changes the input of every clearance workflow the permit workflow starts, e.g. a low history limit."""

    def __init__(self, **update: Any) -> None:
        self.update = update

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        update = self.update

        class Outbound(WorkflowOutboundInterceptor):
            async def start_child_workflow(self, input: StartChildWorkflowInput) -> Any:
                if isinstance(input.args[0], ClearanceWorkflowInput):
                    input.args = [input.args[0].model_copy(update=update), *input.args[1:]]
                return await super().start_child_workflow(input)

        class Inbound(WorkflowInboundInterceptor):
            def init(self, outbound: WorkflowOutboundInterceptor) -> None:
                super().init(Outbound(outbound))

        return Inbound


def first_shoot_in(days: int) -> dt.date:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).date()


@asynccontextmanager
async def running(
    env: WorkflowEnvironment,
    task_queue: str,
    the_plan: ApplicationPlan,
    *,
    app: PermitApplication | None = None,
    max_cached_workflows: int = 1000,
    search_attributes: Any = None,
    world: FakeWorld | None = None,
    organisation_id: str | None = None,
    setup: Callable[[FakeWorld], Awaitable[None] | None] | None = None,
    interceptors: list[Interceptor] | None = None,
    extra_workflows: list[type] | None = None,
    app_id: str | None = None,
    planned_by_starter: bool = False,
):
    """A worker with the fakes and a started permit workflow (`app_id`: a real application id, else a made-up one)."""
    world = world or FakeWorld(plan=the_plan)
    if setup:
        maybe = setup(world)
        if maybe is not None:
            await maybe
    app_id = app_id or f"PRM-{uuid.uuid4().hex[:12].upper()}"
    async with with_single_batch_activations(Worker(
        env.client, task_queue=task_queue, workflows=[*WORKFLOWS, *(extra_workflows or [])],
        activities=world.activities(),
        max_cached_workflows=max_cached_workflows, interceptors=interceptors or [],
        workflow_runner=workflow_runner(WORKFLOWS),
    )):
        kwargs: dict[str, Any] = {}
        if search_attributes is not None:
            kwargs["search_attributes"] = search_attributes
        application_, submitted_at = app or application(first_shoot_in(60)), await env.get_current_time()
        handle = await env.client.start_workflow(
            PermitApplicationWorkflow.run,
            PermitWorkflowInput(
                application_id=app_id,
                application=application_,
                organisation_id=organisation_id,
                submitted_at=submitted_at,
                callback_base_url="https://api.jfc.test",
                public_base_url="https://jfc.test",
                plan=with_calendar(the_plan, application_, submitted_at) if planned_by_starter else None,
            ),
            id=app_id,
            task_queue=task_queue,
            **kwargs,
        )
        yield Run(env=env, world=world, handle=handle, app_id=app_id)
