"""structlog set-up: JSON when not a TTY, Temporal context merged in, personal data masked."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from domain.privacy import REDACTED, redact

# Keys whose values are personal data and never reach a log line.
PERSONAL_KEYS = frozenset({"email", "phone", "passport_number", "contact_name", "foreign_crew", "applicant"})


def mask_personal_data(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    """Drop personal fields and mask emails and phone numbers in any string value."""
    for key in list(event):
        if key == "timestamp":
            continue
        if key in PERSONAL_KEYS:
            event[key] = REDACTED
        elif isinstance(event[key], str):
            event[key] = redact(event[key])
    return event


def add_temporal_context(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    """Merge the workflow or activity identity (workflow, application, agency, attempt) into the event."""
    from temporalio import activity

    workflow_ctx = event.pop("temporal_workflow", None)
    if isinstance(workflow_ctx, dict):  # from workflow.logger's `extra`
        event.setdefault("workflow_id", workflow_ctx.get("workflow_id"))
        event.setdefault("workflow_type", workflow_ctx.get("workflow_type"))
        event.setdefault("run_id", workflow_ctx.get("run_id"))
    event.pop("temporal_activity", None)
    if activity.in_activity():
        info = activity.info()
        event.setdefault("workflow_id", info.workflow_id)
        event.setdefault("activity_type", info.activity_type)
        event.setdefault("attempt", info.attempt)
    workflow_id = event.get("workflow_id")
    if isinstance(workflow_id, str) and "application_id" not in event:
        application_id, _, rest = workflow_id.partition(":")
        event["application_id"] = application_id
        if rest and "agency" not in event:
            event["agency"] = rest.split(":", 1)[0]
    return event


def configure_logging(fmt: str = "auto", level: str = "INFO") -> None:
    """Configure structlog and route the standard library's logs (temporalio, uvicorn) through it."""
    json_output = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.ExtraAdder(),
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_temporal_context,
        mask_personal_data,
    ]
    renderer: Any = structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer()
    structlog.configure(
        # below the level, a line stops at the first processor instead of being stamped, masked and dropped
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info if json_output else (lambda _l, _n, e: e),
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
