"""Read-model activities: the workflows' state projected into PostgreSQL for search, reports and audit."""

from __future__ import annotations

from typing import Any

import asyncpg
import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain import calendar
from domain.privacy import redact
from schemas.contracts import PROJECTION_FAILED, READ_MODEL_UNAVAILABLE, RECORD_APPLICATION, ProjectionInput

# What an unreachable, restarting or closed database raises: an outage, never the projection's fault.
DATABASE_DOWN: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, no socket file, timeouts (TimeoutError is an OSError)
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,  # "pool is closed", "connection is closed"
    asyncpg.exceptions.OperatorInterventionError,  # 57P01 admin shutdown, 57P03 cannot connect now
    asyncpg.exceptions.InsufficientResourcesError,  # 53xxx too many connections, disk full
)


class RecordActivities:
    """Writes status views into the read model through `store.projections`; `pool` None means not configured."""

    def __init__(self, pool: asyncpg.Pool | None, logger: Any = None) -> None:
        self._pool = pool
        self._log = logger or structlog.get_logger("jfc.records")

    @activity.defn(name=RECORD_APPLICATION)
    async def record_application(self, input: ProjectionInput) -> bool:
        """Project one application at event `seq`; False when the read model already holds that seq or a newer one."""
        from store.projections import project_application  # asyncpg-heavy; workers only

        application_id = input.view.id
        if self._pool is None:
            raise ApplicationError(
                "read model not configured: this worker has no database pool; start it with DATABASE_URL "
                "(or the embedded PostgreSQL) so projections can be written",
                type=READ_MODEL_UNAVAILABLE,
            )
        try:
            written = await project_application(
                self._pool, input.workflow_id, input.seq, input.view, calendar.business_days_between
            )
        except DATABASE_DOWN as exc:
            reason = _reason(exc)
            self._log.warning("read_model_unavailable", application_id=application_id, seq=input.seq, error=reason)
            raise ApplicationError(f"read model unavailable: {reason}; retrying", type=READ_MODEL_UNAVAILABLE) from None
        except Exception as exc:  # noqa: BLE001 — re-raised below, as a retryable failure without row data
            # Anything else (a constraint, a bug) is retried too, until a deploy fixes it. Only the error's type
            # and its redacted message leave here: the database's details may quote the row.
            reason = _reason(exc)
            self._log.error("projection_failed", application_id=application_id, seq=input.seq, error=reason)
            raise ApplicationError(
                f"projection of {application_id} at seq {input.seq} failed: {reason}", type=PROJECTION_FAILED
            ) from None
        self._log.info("application_projected", application_id=application_id, seq=input.seq, written=written)
        return written


def _reason(exc: BaseException) -> str:
    """`Type: message`, with e-mail addresses and phone numbers masked."""
    return redact(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
