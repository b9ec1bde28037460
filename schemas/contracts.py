"""Every contract between the layers: workflow types, messages, queries, updates, activities, error types, ids.

The API, the webhooks, the workflows, the activities and the test stand-ins all name workflows,
signals, queries, updates and activities by the constants below, and exchange the models below.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import NamedTuple

from pydantic import BaseModel, Field

from schemas.agency_api import AgencyRequestStatus, ClearanceRequest
from schemas.application import PermitApplication
from schemas.catalog import Agency
from schemas.decisions import AgencyDecision, InformationAnswer, OfficerDecision
from schemas.status import ClearanceView, Fees, PermitInfo, PermitStatusView

TASK_QUEUE = "jfc-permits"

# Workflow types.
PERMIT_WORKFLOW = "PermitApplicationWorkflow"  # id: the application id (PRM-...)
CLEARANCE_WORKFLOW = "AgencyClearanceWorkflow"  # id: clearance_workflow_id(...)

# Search attributes registered on the Temporal server.
SEARCH_ATTR_STATUS = "ApplicationStatus"  # Keyword
SEARCH_ATTR_NEXT_DEADLINE = "NextDeadline"  # Datetime

# Signals carry machine events; people act through updates.
SIGNAL_AGENCY_DECISION = "agency_decision"  # AgencyDecision: agency webhook -> clearance
SIGNAL_PAYMENT = "payment_received"  # Payment: payment provider webhook -> permit
SIGNAL_CLEARANCE_CHANGED = "clearance_changed"  # ClearanceView: clearance -> its permit
SIGNAL_OFFICER_DECISION = "officer_decision"  # OfficerDecision: permit -> the clearance it decides
SIGNAL_INFORMATION_ANSWER = "information_answer"  # InformationAnswer: permit -> the clearance that asked

# Queries.
QUERY_STATUS = "status"  # permit -> PermitStatusView
QUERY_VIEW = "view"  # clearance -> ClearanceView

# Workflow updates (the API calls them; each carries the caller's Idempotency-Key as update id).
UPDATE_AMEND = "amend"  # Amendment -> AmendmentResult
UPDATE_CANCEL = "cancel"  # CancelRequest -> PermitStatusView
UPDATE_DECIDE = "decide"  # OfficerDecision -> PermitStatusView
UPDATE_ANSWER = "answer_information"  # InformationAnswer -> PermitStatusView

# Why a workflow refuses an update (ApplicationError.type); the API answers 409 and 422.
STATE_CONFLICT = "StateConflict"  # the application's state does not allow it now (409)
INVALID_REQUEST = "InvalidRequest"  # the request itself is wrong (422); details[0]: [{"path", "message"}, ...]

# Activity names.
PLAN_APPLICATION = "plan_application"
SUBMIT_CLEARANCE = "submit_clearance_request"
GET_CLEARANCE_STATUS = "get_clearance_status"
WITHDRAW_CLEARANCE = "withdraw_clearance_request"
SEND_INFORMATION_ANSWER = "send_information_answer"
COMPUTE_SLA_DEADLINES = "compute_sla_deadlines"
COMPUTE_BUSINESS_DEADLINE = "compute_business_deadline"
BUSINESS_DAYS_BETWEEN = "business_days_between"
ISSUE_PERMIT_DOCUMENT = "issue_permit_document"
NOTIFY = "notify"
RECORD_APPLICATION = "record_application"

# Why an activity failed (ApplicationError.type); the workflows' retry policies name them.
AGENCY_UNAVAILABLE = "AgencyUnavailable"  # an outage: retried, Retry-After honoured (up to ten minutes)
RETRY_AFTER_ASKED = "retry_after_asked_seconds"  # an outage's details[0] key: the Retry-After the party asked for
AGENCY_REFUSED = "AgencyRefused"  # a 4xx: the request's fault, not retried
AGENCY_PROTOCOL_ERROR = "AgencyProtocolError"  # a 2xx we cannot read: not retried
INVALID_INPUT = "InvalidActivityInput"  # input a pure computation rejects: not retried
READ_MODEL_UNAVAILABLE = "ReadModelUnavailable"  # PostgreSQL down: the projection retries
PROJECTION_FAILED = "ProjectionFailed"  # a projection failed for an unknown reason (a bug): retried
PROJECTION_REFUSED = "ProjectionRefused"  # PostgreSQL refused the data for good: noted, not retried
OUTBOX_UNAVAILABLE = "OutboxUnavailable"  # the outbox could not take a notification: retried


class ClearanceKey(NamedTuple):
    application_id: str
    agency: str
    revision: int


_CLEARANCE_ID = re.compile(r"^(?P<application_id>[^:]+):(?P<agency>[^:]+):r(?P<revision>[1-9][0-9]*)$")


def clearance_workflow_id(application_id: str, agency: str, revision: int) -> str:
    """The clearance workflow's id, which is also the Idempotency-Key (`request_key`) of its agency request."""
    return f"{application_id}:{agency}:r{revision}"


def parse_clearance_workflow_id(value: str) -> ClearanceKey | None:
    """The parts of a clearance workflow id (or request key); None when `value` is not one."""
    match = _CLEARANCE_ID.match(value)
    if match is None:
        return None
    return ClearanceKey(match["application_id"], match["agency"], int(match["revision"]))


# ---- planning -------------------------------------------------------------------


class PlanInput(BaseModel):
    application: PermitApplication
    submitted_at: dt.datetime


class RoutedAgency(BaseModel):
    agency: Agency
    depends_on: list[str] = Field(default_factory=list)
    location_indexes: list[int] = Field(description="Indexes into application.locations this agency clears")
    reasons: list[str] = Field(description="Why the rule set routes to this agency, human readable")


class WorkingCalendar(BaseModel):
    """Jakarta's non-working weekdays (holidays, cuti bersama) from `first` to `last`, as recorded once by the plan
    activity, so workflows count business days in their own code and replay the same (weekends are always off)."""

    first: dt.date
    last: dt.date
    non_working: list[dt.date] = Field(default_factory=list)


class ApplicationPlan(BaseModel):
    rule_set: str
    agencies: list[RoutedAgency]
    lead_time_business_days: int
    earliest_feasible_start: dt.date
    lead_time_ok: bool
    fees: Fees
    information_reply_business_days: int
    payment_business_days: int
    calendar: WorkingCalendar | None = Field(
        default=None, description="Non-working dates from submission to well past the last shoot day; None: ask the "
                                  "deadline activities")


class SlaDeadlines(BaseModel):
    reminder_at: dt.datetime | None = Field(description="16:00 on business day N-1; None when N = 1")
    due_at: dt.datetime
    final_at: dt.datetime


# ---- workflows ------------------------------------------------------------------


class PermitWorkflowInput(BaseModel):
    application_id: str
    application: PermitApplication
    organisation_id: str | None = Field(default=None, description="The applicant organisation that owns it")
    submitted_at: dt.datetime
    callback_base_url: str = Field(description="Public base URL of the API, for agency webhooks")
    public_base_url: str = Field(description="Base URL printed on documents (document and verify links)")
    plan: ApplicationPlan | None = Field(
        default=None, description="The plan the starter checked the application against at intake, with its "
                                  "calendar (the API's); None: the workflow plans with the worker's rule set")


class ClearanceProgress(BaseModel):
    """Everything a clearance workflow knows besides its input; a continue-as-new carries it whole."""

    view: ClearanceView
    published: ClearanceView | None = Field(default=None, description="The view the parent was last told")
    deadlines: SlaDeadlines | None = None
    paused_business_days: int = Field(default=0, description="Business days spent waiting on the applicant")
    agency_inbox: list[AgencyDecision] = Field(default_factory=list)
    officer_inbox: list[OfficerDecision] = Field(default_factory=list)
    answers: list[InformationAnswer] = Field(default_factory=list)
    seen_decision_ids: list[str] = Field(default_factory=list)
    refused: bool = Field(default=False, description="The agency refused the request (4xx): an officer decides")
    retry_delay: dt.timedelta | None = Field(default=None, description="The wait before the next submission attempt")
    retry_after_told: bool = Field(
        default=False, description="The officer heard that the agency asked (Retry-After) to wait longer than we do"
    )
    reminded: bool = False
    breach_escalated: bool = False
    silence_handled: bool = False
    info_requested_at: dt.datetime | None = None
    officer_requests: int = 0
    next_poll_at: dt.datetime | None = None
    poll_delay: dt.timedelta | None = None


class ClearanceWorkflowInput(BaseModel):
    application_id: str
    agency: Agency
    revision: int
    request: ClearanceRequest
    information_reply_business_days: int = 10
    calendar: WorkingCalendar | None = Field(
        default=None, description="The plan's calendar, to count business days in the workflow; None: ask activities")
    parent_workflow_id: str
    organisation_id: str | None = Field(default=None, description="The applicant organisation, for its notifications")
    applicant_webhook_url: str | None = Field(default=None, description="Where applicant notifications go")
    carried_state: ClearanceProgress | None = Field(
        default=None, description="The previous run's progress when a long wait continued it as new; None at first"
    )
    continue_as_new_after_events: int | None = Field(
        default=None, description="History length that makes an outage continue as new; None: the workflow's default"
    )


class ClearanceResult(BaseModel):
    view: ClearanceView


# ---- activities -----------------------------------------------------------------


class SubmitClearanceInput(BaseModel):
    agency: Agency
    request: ClearanceRequest


class SubmitClearanceResult(BaseModel):
    reference: str


class AgencyCallInput(BaseModel):
    """For status polls and withdrawals: which agency, which request."""

    agency: Agency
    reference: str
    request_key: str


class AgencyStatusResult(BaseModel):
    status: AgencyRequestStatus


class InformationAnswerInput(BaseModel):
    agency: Agency
    reference: str
    request_key: str
    request_id: str
    answer: str


class SlaDeadlinesInput(BaseModel):
    accepted_at: dt.datetime
    sla_days: int
    grace_days: int
    paused_business_days: int = Field(default=0, description="Business days spent waiting on the applicant")


class BusinessDeadlineInput(BaseModel):
    start: dt.datetime
    business_days: int


class BusinessDaysBetweenInput(BaseModel):
    start: dt.datetime
    end: dt.datetime


class IssueDocumentInput(BaseModel):
    application_id: str
    application: PermitApplication
    clearances: list[ClearanceView]
    fees: Fees
    issued_at: dt.datetime
    public_base_url: str


class IssueDocumentResult(BaseModel):
    permit: PermitInfo
    sha256: str


class Notification(BaseModel):
    """A structured event for the applicant, an agency or the officer queue.

    Applicant notifications with a `webhook_url` go through the outbox to that URL, signed.
    """

    application_id: str
    kind: str = Field(description="e.g. agency_reminder, sla_breached, permit_issued, information_required")
    audience: str = Field(description="applicant | officer | agency:<code>")
    agency: str | None = None
    detail: str = ""
    key: str | None = Field(
        default=None,
        description="Idempotency key of this notification; None derives one from the activity (workflow, run, activity id)",
    )
    organisation_id: str | None = Field(default=None, description="The applicant organisation; picks the signing secret")
    webhook_url: str | None = Field(default=None, description="The applicant's webhook, from the application")


class Notifications(BaseModel):
    """The notifications one workflow task sent, for one `notify` activity; each keeps its own idempotency key."""

    items: list[Notification]


class ProjectionInput(BaseModel):
    """One projection of an application into the read model: its status view as of event `seq`.

    `(workflow_id, seq)` is the idempotency key: the store writes a given seq once and never
    lets an older seq overwrite a newer one.
    """

    workflow_id: str
    seq: int = Field(ge=1, description="The workflow's event sequence; grows with every state change")
    view: PermitStatusView


# ==== incentives (design §4) ==========================================================================

INCENTIVE_WORKFLOW = "IncentiveApplicationWorkflow"  # id: the incentive id (INC-...)
FEATURE_CALL_WORKFLOW = "FeatureCallWorkflow"  # id: feature_call_workflow_id(call id)

SIGNAL_INCENTIVE_LINKED = "incentive_linked"  # IncentiveLink: incentive -> its permit
SIGNAL_PERMIT_EVENT = "permit_event"  # PermitEvent: permit -> each linked incentive
SIGNAL_FUND_PROMOTED = "fund_promoted"  # FundPromotion: whoever released money -> the waiting incentive it reserved
SIGNAL_AUDIT_DECISION = "audit_decision"  # AuditDecision: the audit firm's webhook -> the incentive
SIGNAL_CALL_ENTRY = "call_entry"  # CallEntry: a first-feature application -> its call
SIGNAL_CALL_RESULT = "call_result"  # CallResult: the call -> each of its applications

QUERY_CALL = "call"  # feature call -> CallView (incentives answer QUERY_STATUS with IncentiveStatusView)

UPDATE_CLAIM = "claim"  # Claim -> IncentiveStatusView
UPDATE_WITHDRAW = "withdraw"  # Withdrawal -> IncentiveStatusView
UPDATE_COMMITTEE = "committee_decide"  # CommitteeDecision -> IncentiveStatusView
UPDATE_CLAWBACK = "clawback"  # ClawbackOrder -> IncentiveStatusView
UPDATE_SCORE = "score"  # PanelScore (on the feature call) -> CallView

FUND_RESERVE = "fund_reserve"
FUND_RELEASE = "fund_release"
FUND_PAY = "fund_pay"
FUND_CLAWBACK = "fund_clawback"
TREASURY_PAY = "treasury_pay"
REQUEST_AUDIT = "request_audit"
ISSUE_CERTIFICATE = "issue_certificate"
RECORD_INCENTIVE = "record_incentive"

TREASURY_REFUSED = "TreasuryRefused"  # a 4xx from the treasury: an officer looks into it
FUND_REFUSED = "FundRefused"  # the ledger refused an operation (more than reserved, twice reserved)


def feature_call_workflow_id(call_id: str) -> str:
    return f"call:{call_id}"


def audit_request_key(incentive_id: str, audit_round: int) -> str:
    """The Idempotency-Key of an incentive's audit request (one per round of its claim)."""
    return f"{incentive_id}:audit:{audit_round}"


def incentive_of_audit_key(value: str) -> str | None:
    """The incentive an audit request key belongs to; None when `value` is not one."""
    incentive_id, _, rest = value.partition(":audit:")
    return incentive_id if incentive_id and rest.isdigit() and int(rest) >= 1 else None
