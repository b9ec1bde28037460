"""The worker's memory bound comes from the settings (JFC_MAX_CACHED_WORKFLOWS), and a caller may still choose."""

from __future__ import annotations

import httpx
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from domain.catalog import load_rule_set
from workers.worker import build_worker


async def test_the_workflow_cache_is_bounded_by_the_setting(time_env: WorkflowEnvironment, monkeypatch, tmp_path):
    monkeypatch.setenv("JFC_MAX_CACHED_WORKFLOWS", "123")
    settings = Settings(state_dir=tmp_path, task_queue="cache-bound-1")
    rules = load_rule_set(settings.agencies_file, settings.rules_file, "http://sim.test")
    async with httpx.AsyncClient() as http:
        assert build_worker(time_env.client, settings, rules, http).config()["max_cached_workflows"] == 123
        other = settings.model_copy(update={"task_queue": "cache-bound-2"})  # one worker per task queue
        chosen = build_worker(time_env.client, other, rules, http, max_cached_workflows=0)
        assert chosen.config()["max_cached_workflows"] == 0
    assert Settings.model_fields["max_cached_workflows"].default == 400
