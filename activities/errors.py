"""Raising the activity failures the workflows' retry policies name (the types live in schemas.contracts)."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from schemas.contracts import (
    AGENCY_PROTOCOL_ERROR,
    AGENCY_REFUSED,
    AGENCY_UNAVAILABLE,
    INVALID_INPUT,
)

__all__ = ["AGENCY_PROTOCOL_ERROR", "AGENCY_REFUSED", "AGENCY_UNAVAILABLE", "INVALID_INPUT", "NON_RETRYABLE",
           "invalid_input"]

NON_RETRYABLE = (AGENCY_REFUSED, AGENCY_PROTOCOL_ERROR, INVALID_INPUT)


def invalid_input(exc: ValueError) -> ApplicationError:
    """A non-retryable failure for input a deterministic function rejected (a retry would fail the same way)."""
    return ApplicationError(str(exc), type=INVALID_INPUT, non_retryable=True)
