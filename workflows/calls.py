"""The activities the workflows call, one function each, with their timeouts and retry policies.

Deadlines are counted here, in workflow code, against the calendar the plan recorded (`WorkingCalendar`); only a
count that leaves its range (or a workflow without one) asks the deadline activities. Planning and documents are pure
or idempotent and retried until they succeed (a refusal of their input excepted). A submission or a status poll is
one attempt: the clearance workflow decides on its own timers when to try again. Answers and withdrawals retry for
days.
"""

from __future__ import annotations

import datetime as dt

from temporalio import workflow

from domain import calendar as days
from schemas.agency_api import ClearanceRequest
from schemas.application import PermitApplication
from schemas.catalog import Agency
from schemas.contracts import (
    BUSINESS_DAYS_BETWEEN,
    COMPUTE_BUSINESS_DEADLINE,
    COMPUTE_SLA_DEADLINES,
    GET_CLEARANCE_STATUS,
    ISSUE_PERMIT_DOCUMENT,
    PLAN_APPLICATION,
    SEND_INFORMATION_ANSWER,
    SUBMIT_CLEARANCE,
    WITHDRAW_CLEARANCE,
    AgencyCallInput,
    AgencyStatusResult,
    ApplicationPlan,
    BusinessDaysBetweenInput,
    BusinessDeadlineInput,
    InformationAnswerInput,
    IssueDocumentInput,
    IssueDocumentResult,
    PlanInput,
    SlaDeadlines,
    SlaDeadlinesInput,
    SubmitClearanceInput,
    SubmitClearanceResult,
    WorkingCalendar,
)
from workflows.policies import (
    AGENCY_CALL_TIMEOUT,
    DOCUMENT_TIMEOUT,
    ONE_ATTEMPT,
    PERSISTENT_RETRY,
    PERSISTENT_SCHEDULE_TO_CLOSE,
    PURE_RETRY,
    PURE_TIMEOUT,
)


async def plan(application: PermitApplication, submitted_at: dt.datetime) -> ApplicationPlan:
    """A regular activity, not a local one: the workflow stamps its own events right after the plan, and the time of
    a local activity's result depends on what else ran beside it, which a replay does not repeat."""
    return await workflow.execute_activity(
        PLAN_APPLICATION, PlanInput(application=application, submitted_at=submitted_at),
        result_type=ApplicationPlan, start_to_close_timeout=PURE_TIMEOUT, retry_policy=PURE_RETRY,
    )


async def business_deadline(start: dt.datetime, business_days: int,
                            calendar: WorkingCalendar | None = None) -> dt.datetime:
    """16:00 Asia/Jakarta on the Nth business day after `start`."""
    if calendar is not None:
        try:
            return days.business_deadline(start, business_days, days.in_calendar(calendar))
        except days.OutsideCalendar:
            pass
    return await workflow.execute_activity(
        COMPUTE_BUSINESS_DEADLINE, BusinessDeadlineInput(start=start, business_days=business_days),
        result_type=dt.datetime, start_to_close_timeout=PURE_TIMEOUT, retry_policy=PURE_RETRY,
    )


async def sla_deadlines(accepted_at: dt.datetime, agency: Agency, paused_business_days: int,
                        calendar: WorkingCalendar | None = None) -> SlaDeadlines:
    if calendar is not None:
        try:
            return days.sla_deadlines(accepted_at, agency.sla_days, agency.grace_days, paused_business_days,
                                      days.in_calendar(calendar))
        except days.OutsideCalendar:
            pass
    return await workflow.execute_activity(
        COMPUTE_SLA_DEADLINES,
        SlaDeadlinesInput(accepted_at=accepted_at, sla_days=agency.sla_days, grace_days=agency.grace_days,
                          paused_business_days=paused_business_days),
        result_type=SlaDeadlines, start_to_close_timeout=PURE_TIMEOUT, retry_policy=PURE_RETRY,
    )


async def business_days_between(start: dt.datetime, end: dt.datetime,
                                calendar: WorkingCalendar | None = None) -> int:
    if calendar is not None:
        try:
            return days.business_days_between(start, end, days.in_calendar(calendar))
        except days.OutsideCalendar:
            pass
    return await workflow.execute_activity(
        BUSINESS_DAYS_BETWEEN, BusinessDaysBetweenInput(start=start, end=end),
        result_type=int, start_to_close_timeout=PURE_TIMEOUT, retry_policy=PURE_RETRY,
    )


async def issue_document(input: IssueDocumentInput) -> IssueDocumentResult:
    return await workflow.execute_activity(
        ISSUE_PERMIT_DOCUMENT, input, result_type=IssueDocumentResult, start_to_close_timeout=DOCUMENT_TIMEOUT,
        retry_policy=PURE_RETRY,
    )


async def submit(agency: Agency, request: ClearanceRequest) -> SubmitClearanceResult:
    """One attempt; its request key makes every attempt the same request at the agency."""
    return await workflow.execute_activity(
        SUBMIT_CLEARANCE, SubmitClearanceInput(agency=agency, request=request),
        result_type=SubmitClearanceResult, start_to_close_timeout=AGENCY_CALL_TIMEOUT, retry_policy=ONE_ATTEMPT,
    )


async def status_at_agency(agency: Agency, reference: str, request_key: str) -> AgencyStatusResult:
    """One attempt; a failed poll simply waits for the next one."""
    return await workflow.execute_activity(
        GET_CLEARANCE_STATUS, AgencyCallInput(agency=agency, reference=reference, request_key=request_key),
        result_type=AgencyStatusResult, start_to_close_timeout=AGENCY_CALL_TIMEOUT, retry_policy=ONE_ATTEMPT,
    )


async def withdraw(agency: Agency, reference: str, request_key: str) -> None:
    await workflow.execute_activity(
        WITHDRAW_CLEARANCE, AgencyCallInput(agency=agency, reference=reference, request_key=request_key),
        start_to_close_timeout=AGENCY_CALL_TIMEOUT, schedule_to_close_timeout=PERSISTENT_SCHEDULE_TO_CLOSE,
        retry_policy=PERSISTENT_RETRY,
    )


async def send_answer(input: InformationAnswerInput) -> None:
    await workflow.execute_activity(
        SEND_INFORMATION_ANSWER, input, start_to_close_timeout=AGENCY_CALL_TIMEOUT,
        schedule_to_close_timeout=PERSISTENT_SCHEDULE_TO_CLOSE, retry_policy=PERSISTENT_RETRY,
    )
