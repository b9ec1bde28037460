"""Timeouts and retry policies the workflows share.

Notifications and projections are local activities: each runs inside the workflow task that asked for it and
costs one marker event, not three events and a workflow task. A failed attempt of one waits for its retry on a
workflow timer (LOCAL_RETRY_THRESHOLD), so a database outage never holds a workflow task open. Nothing the
workflow stamps with a time waits on them: the time of a local activity's result depends on what else ran
beside it, which a replay does not repeat.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

from schemas.contracts import AGENCY_PROTOCOL_ERROR, AGENCY_REFUSED, INVALID_INPUT

# A failure of these types is the request's fault: retrying cannot help, an officer decides.
REFUSALS = [AGENCY_REFUSED, AGENCY_PROTOCOL_ERROR, INVALID_INPUT]

AGENCY_CALL_TIMEOUT = timedelta(seconds=30)
# One attempt per activity: the clearance workflow retries a submission on its own timers, so an outage
# shows (agency_unreachable) from the first failed call, and each wait is visible in its history.
ONE_ATTEMPT = RetryPolicy(maximum_attempts=1, non_retryable_error_types=REFUSALS)
OUTAGE_FIRST_BACKOFF = timedelta(seconds=1)
OUTAGE_MAX_BACKOFF = timedelta(minutes=10)
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
DOCUMENT_TIMEOUT = timedelta(seconds=30)  # a render takes about a second: a killed worker's is retried soon
LOCAL_RETRY_THRESHOLD = timedelta(milliseconds=1)  # every backoff of a local activity on a timer
# Read-model projections: retried until PostgreSQL takes them (an outage only delays the read model).
PROJECTION_TIMEOUT = timedelta(seconds=30)
PROJECTION_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1), maximum_attempts=0
)
