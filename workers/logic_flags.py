"""The workflow logic our workers run with that the SDK does not turn on by default yet.

temporalio 1.35 applies an activation's signals and updates in one pass and the rest (activity, child and timer
results) in a second, running the workflow's coroutines in between. A workflow task that brings both then shows
the workflow half of what it brought: a projection or a notification scheduled in between misses the rest, and
how many follow then depends on how the activations of a task were cut, which is not the same live as in a
replay (a status query of a closed application failed as nondeterministic). With the SDK's flag
`PROCESS_WORKFLOW_ACTIVATION_JOBS_AS_SINGLE_BATCH`, every job of an activation is applied before any coroutine
runs. The SDK records the flag in each workflow task that used it, so a replay (a Replayer, another worker)
follows the history whatever its own default, and histories written without it replay as they ran. The SDK plans
to turn it on by default; until then it is set through the Worker's (private) switch.
"""

from __future__ import annotations

from temporalio.worker import Worker
from temporalio.worker._workflow_instance import _WorkflowLogicFlag

SINGLE_BATCH = _WorkflowLogicFlag.PROCESS_WORKFLOW_ACTIVATION_JOBS_AS_SINGLE_BATCH


def with_single_batch_activations(worker: Worker) -> Worker:
    """`worker`, applying each activation's jobs all at once (before it starts)."""
    worker._set_default_workflow_logic_flag(SINGLE_BATCH, enabled=True)
    return worker
