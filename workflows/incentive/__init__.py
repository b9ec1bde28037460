"""The incentive application workflow and its steps (design §4)."""

from workflows.incentive.workflow import IncentiveApplicationWorkflow

__all__ = ["IncentiveApplicationWorkflow"]
