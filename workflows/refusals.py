"""Refusing a workflow update from its validator: a state conflict (409) or problems with field paths (422)."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from schemas.contracts import INVALID_REQUEST, STATE_CONFLICT
from schemas.problems import Problem


def state_conflict(message: str) -> ApplicationError:
    """The application's state does not allow this now (the API answers 409)."""
    return ApplicationError(message, type=STATE_CONFLICT, non_retryable=True)


def invalid_request(summary: str, problems: list[Problem]) -> ApplicationError:
    """The request itself is wrong: every problem with its field path travels as the error's first detail (422)."""
    text = "; ".join(f"{p.path}: {p.message}" for p in problems)
    return ApplicationError(
        f"{summary}: {text}" if text else summary,
        [p.model_dump() for p in problems],
        type=INVALID_REQUEST,
        non_retryable=True,
    )
