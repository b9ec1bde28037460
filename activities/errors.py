"""Error types activities raise, named for the workflows' retry policies."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

AGENCY_UNAVAILABLE = "AgencyUnavailable"  # an outage: retried, Retry-After honoured
AGENCY_REFUSED = "AgencyRefused"  # a 4xx: the request's fault, not retried
AGENCY_PROTOCOL_ERROR = "AgencyProtocolError"  # a 2xx we cannot read: not retried
INVALID_INPUT = "InvalidActivityInput"  # input a pure computation rejects: not retried

NON_RETRYABLE = (AGENCY_REFUSED, AGENCY_PROTOCOL_ERROR, INVALID_INPUT)


def invalid_input(exc: ValueError) -> ApplicationError:
    """A non-retryable failure for input a deterministic function rejected (a retry would fail the same way)."""
    return ApplicationError(str(exc), type=INVALID_INPUT, non_retryable=True)
