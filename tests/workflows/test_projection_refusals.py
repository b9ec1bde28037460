"""A projection the read model refuses for good (data PostgreSQL cannot store) is surfaced, never retried forever.

The API refuses control characters at the edge (tests/api/test_edge.py); this is the defence behind
it, for data that reaches a workflow another way. Real PostgreSQL, the real record activity, a real
incentive workflow on the time-skipping server.
"""

from __future__ import annotations

import asyncpg
import httpx
from temporalio import activity

from activities.incentives import IncentiveRecordActivities
from api.app import create_app
from config.settings import Settings
from domain.catalog import load_rule_set
from schemas.contracts import RECORD_INCENTIVE
from schemas.incentive_contracts import IncentiveProjectionInput
from schemas.incentives import IncentiveStatus
from store.incentive_projections import fetch_incentive
from tests.workflows.incentive_harness import FakeParties, permit_facts, rebate_application, running
from tests.workflows.wf_harness import first_shoot_in


class RealReadModel(FakeParties):
    """The fakes, but the read model is PostgreSQL through the real record activity."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__()
        self._real = IncentiveRecordActivities(pool)
        self.attempts = 0

    @activity.defn(name=RECORD_INCENTIVE)
    async def record(self, input: IncentiveProjectionInput) -> bool:
        self.attempts += 1
        return await self._real.record_incentive(input)


async def test_a_refused_projection_is_noted_for_operators_and_does_not_hold_the_workflow_open(
        time_env, task_queue, pool: asyncpg.Pool, tmp_path) -> None:
    parties = RealReadModel(pool)
    permit = permit_facts(first_shoot_in(60), days=3).model_copy(update={"production_title": "A\u0000B"})
    async with running(time_env, task_queue, rebate_application(), permit, parties=parties) as run:
        final = await run.handle.result()  # ineligible (3 shoot days): it ends, though no view of it was stored

    assert final.status == IncentiveStatus.ineligible
    assert await fetch_incentive(pool, run.incentive_id) is None
    assert parties.attempts <= 3, f"{parties.attempts} attempts: a refusal must not be retried"
    failure = await pool.fetchrow("SELECT seq, error FROM projection_failures WHERE workflow_id = $1",
                                  run.incentive_id)
    assert failure is not None, "the refusal was not noted"
    assert any(kind in failure["error"] for kind in ("CharacterNotInRepertoire", "Untranslatable")), failure["error"]

    settings = Settings(state_dir=tmp_path)
    rules = load_rule_set(settings.agencies_file, settings.rules_file, "http://sim.test")

    class Healthy:  # a Temporal service client that answers its health check
        async def check_health(self, **_: object) -> bool:
            return True

    temporal = type("Client", (), {"service_client": Healthy()})()
    app = create_app(settings, temporal, rules, secrets=lambda ref: b"s", pool=pool)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://jfc.test") as http:
        health = (await http.get("/healthz")).json()
    assert (health["status"], health["projection_failures"]) == ("degraded", 1)


async def test_a_later_projection_that_is_written_clears_the_failure(pool: asyncpg.Pool) -> None:
    from store.projection_failures import clear_failure, count_failures, note_failure

    await note_failure(pool, "INC-X", 4, "DataError: bad \x00 byte")
    await note_failure(pool, "INC-X", 3, "older, arriving late")  # never replaces a newer refusal
    assert await pool.fetchval("SELECT seq FROM projection_failures WHERE workflow_id = 'INC-X'") == 4
    await clear_failure(pool, "INC-X", 4)
    assert await count_failures(pool) == 1  # the same seq written elsewhere does not clear its own refusal
    await clear_failure(pool, "INC-X", 5)
    assert await count_failures(pool) == 0
