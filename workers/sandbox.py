"""The workflow sandbox the workers run: our workflow definitions sandboxed, their deterministic helpers passed through.

The sandbox imports a workflow's module afresh for every workflow run, with every module it imports that is not
passed through. Our helpers (the `workflows` modules that define no workflow: rules, steps, calls, waiting) and our
models (`schemas`, `domain`) keep no state and call nothing non-deterministic, so, as Temporal's guide advises,
they pass through: imported once per process, not once per run (the sandbox's `imports_passed_through` block
cannot do it for `from workflows import x`, whose package the sandbox has already loaded). The modules that define
a workflow stay inside the sandbox, with its restrictions.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

import workflows

MODELS = ("schemas", "domain")


def helper_modules(definitions: Iterable[type]) -> list[str]:
    """The `workflows` modules to pass through: every module but the packages and those defining `definitions`."""
    defining = {cls.__module__ for cls in definitions}
    found = []
    for module in pkgutil.walk_packages(workflows.__path__, prefix="workflows."):
        if module.ispkg or module.name in defining:
            continue
        importlib.import_module(module.name)  # a broken helper fails the worker's start, not its first workflow
        found.append(module.name)
    return sorted(found)


def workflow_runner(definitions: Iterable[type]) -> SandboxedWorkflowRunner:
    """The sandboxed runner for `definitions`, with our models and workflow helpers passed through."""
    passthrough = [*MODELS, *helper_modules(definitions)]
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(*passthrough))
