"""The permit application workflow and its pure rules (design §3)."""

from workflows.permit.workflow import PermitApplicationWorkflow

__all__ = ["PermitApplicationWorkflow"]
