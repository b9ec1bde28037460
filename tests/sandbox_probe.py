"""A workflow that answers which module objects a sandboxed run sees (its module imports only what it probes)."""

from __future__ import annotations

import sys

from temporalio import workflow

import schemas.contracts  # noqa: F401 — a model
import workflows.calls  # noqa: F401 — a helper
import workflows.permit.workflow  # noqa: F401 — a workflow definition

PROBED = ("workflows.calls", "schemas.contracts", "workflows.permit.workflow")


@workflow.defn
class ModuleProbe:
    @workflow.run
    async def run(self) -> list[int]:
        """The ids of the `PROBED` modules, as imported inside the sandbox."""
        return [id(sys.modules[name]) for name in PROBED]
