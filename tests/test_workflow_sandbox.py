"""The workers' sandbox: workflow definitions imported afresh for each run, their helpers and models once per process."""

from __future__ import annotations

import httpx
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

import workflows.calls
import workflows.permit.workflow
from config.settings import Settings
from domain.catalog import load_rule_set
from workers.sandbox import helper_modules, workflow_runner
from tests.sandbox_probe import ModuleProbe
from workers.worker import WORKFLOWS, build_worker

DEFINITIONS = {"workflows.permit.workflow", "workflows.clearance.workflow", "workflows.incentive.workflow",
               "workflows.feature_call"}


def test_every_workflows_module_but_the_definitions_and_packages_passes_through():
    helpers = set(helper_modules(WORKFLOWS))
    assert {"workflows.calls", "workflows.clearance.progress", "workflows.permit.application",
            "workflows.incentive.money", "workflows.waiting"} <= helpers
    assert not helpers & DEFINITIONS
    assert not helpers & {"workflows", "workflows.permit", "workflows.clearance", "workflows.incentive"}
    assert {cls.__module__ for cls in WORKFLOWS} == DEFINITIONS


async def test_runs_share_the_helpers_and_models_but_import_definitions_afresh(time_env: WorkflowEnvironment,
                                                                              task_queue: str):
    import schemas.contracts

    async with Worker(time_env.client, task_queue=task_queue, workflows=[ModuleProbe],
                      workflow_runner=workflow_runner(WORKFLOWS)):
        first, second = [await time_env.client.execute_workflow(ModuleProbe.run, id=f"{task_queue}-{n}",
                                                                task_queue=task_queue) for n in (1, 2)]
    helper, model, definition = first
    assert helper == id(workflows.calls) and model == id(schemas.contracts)  # the process's own modules
    assert definition != id(workflows.permit.workflow) and second[2] != definition  # a fresh one per run
    assert second[:2] == first[:2]


async def test_the_worker_runs_the_sandbox_with_the_helpers_passed_through(time_env: WorkflowEnvironment, tmp_path):
    settings = Settings(state_dir=tmp_path, task_queue="sandbox-runner-1")
    rules = load_rule_set(settings.agencies_file, settings.rules_file, "http://sim.test")
    async with httpx.AsyncClient() as http:
        runner = build_worker(time_env.client, settings, rules, http).config()["workflow_runner"]
    passthrough = runner.restrictions.passthrough_modules
    assert {"workflows.permit.application", "schemas", "domain"} <= passthrough
    assert "workflows.permit.workflow" not in passthrough and "workflows" not in passthrough
