"""Read-model activities: the workflows' state projected into PostgreSQL for search, reports and audit."""

from __future__ import annotations

from typing import Any

import asyncpg
import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain import calendar
from domain.privacy import redact
from schemas.contracts import (
    PROJECTION_FAILED,
    PROJECTION_REFUSED,
    READ_MODEL_UNAVAILABLE,
    RECORD_APPLICATION,
    ProjectionInput,
)
from store.pool import DATABASE_DOWN

# What PostgreSQL refuses for good: data it cannot store (22xxx, e.g. a NUL) or a violated constraint (23xxx).
# Retrying cannot help; the refusal is noted for operators and the workflow goes on without waiting for it.
REFUSED_FOR_GOOD: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.DataError,
    asyncpg.exceptions.IntegrityConstraintViolationError,
)
FAILURE_COUNTER = "jfc_projection_failures"


async def refused_for_good(pool: asyncpg.Pool, workflow_id: str, seq: int, exc: BaseException,
                           log: Any) -> ApplicationError:
    """Note a projection the database refused for good, count it, and give the non-retryable error to raise."""
    from store.projection_failures import note_failure

    reason = _reason(exc)
    log.error("projection_refused", application_id=workflow_id, seq=seq, error=reason)
    activity.metric_meter().create_counter(
        FAILURE_COUNTER, "Projections the read model refused for good (see /healthz)").add(1, {"error": type(exc).__name__})
    try:
        await note_failure(pool, workflow_id, seq, reason)
    except DATABASE_DOWN:
        pass  # noted next time; the error below still tells the workflow
    return ApplicationError(f"projection of {workflow_id} at seq {seq} refused for good: {reason}",
                            type=PROJECTION_REFUSED, non_retryable=True)


async def written(pool: asyncpg.Pool, workflow_id: str, seq: int) -> None:
    """A projection was written: any older refusal of this workflow is cleared."""
    from store.projection_failures import clear_failure

    await clear_failure(pool, workflow_id, seq)


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
            was_written = await project_application(
                self._pool, input.workflow_id, input.seq, input.view, calendar.business_days_between
            )
            await written(self._pool, input.workflow_id, input.seq)
        except DATABASE_DOWN as exc:
            reason = _reason(exc)
            self._log.warning("read_model_unavailable", application_id=application_id, seq=input.seq, error=reason)
            raise ApplicationError(f"read model unavailable: {reason}; retrying", type=READ_MODEL_UNAVAILABLE) from None
        except REFUSED_FOR_GOOD as exc:
            raise await refused_for_good(self._pool, input.workflow_id, input.seq, exc, self._log) from None
        except Exception as exc:  # noqa: BLE001 — re-raised below, as a retryable failure without row data
            # Anything else (a bug) is retried, until a deploy fixes it. Only the error's type
            # and its redacted message leave here: the database's details may quote the row.
            reason = _reason(exc)
            self._log.error("projection_failed", application_id=application_id, seq=input.seq, error=reason)
            raise ApplicationError(
                f"projection of {application_id} at seq {input.seq} failed: {reason}", type=PROJECTION_FAILED
            ) from None
        self._log.info("application_projected", application_id=application_id, seq=input.seq, written=was_written)
        return was_written


def _reason(exc: BaseException) -> str:
    """`Type: message`, with e-mail addresses and phone numbers masked."""
    return redact(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
