"""Timeouts and retry policies the workflows share, and the activity error types they name."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

# Error types raised by the activities (activities/errors.py); strings, so workflows import no activity code.
AGENCY_REFUSED = "AgencyRefused"
AGENCY_PROTOCOL_ERROR = "AgencyProtocolError"
INVALID_INPUT = "InvalidActivityInput"
REFUSALS = [AGENCY_REFUSED, AGENCY_PROTOCOL_ERROR, INVALID_INPUT]

AGENCY_CALL_TIMEOUT = timedelta(seconds=30)
# A few quick attempts per round; between rounds the workflow sleeps on a timer (visible outage).
SUBMIT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10), maximum_attempts=3,
    non_retryable_error_types=REFUSALS,
)
OUTAGE_FIRST_BACKOFF = timedelta(seconds=30)
OUTAGE_MAX_BACKOFF = timedelta(minutes=10)
POLL_RETRY = RetryPolicy(maximum_attempts=1)  # a failed poll simply waits for the next one
# Answers and withdrawals must get through: retry through outages, give up only on a refusal or after days.
PERSISTENT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=OUTAGE_MAX_BACKOFF, non_retryable_error_types=REFUSALS
)
PERSISTENT_SCHEDULE_TO_CLOSE = timedelta(days=3)
PURE_TIMEOUT = timedelta(seconds=30)
PURE_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1), non_retryable_error_types=[INVALID_INPUT])
NOTIFY_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1), maximum_attempts=5)
# Applicant notifications go into the outbox: retried through a database outage (PERSISTENT_RETRY) for days.
APPLICANT_NOTIFY_SCHEDULE_TO_CLOSE = timedelta(days=7)
DOCUMENT_TIMEOUT = timedelta(minutes=2)
# Read-model projections: retried until PostgreSQL takes them (an outage only delays the read model).
PROJECTION_TIMEOUT = timedelta(seconds=30)
PROJECTION_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1), maximum_attempts=0
)
