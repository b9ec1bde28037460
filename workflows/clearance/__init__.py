"""The agency clearance workflow and the pure rules of its progress (design §3)."""

from workflows.clearance.workflow import AgencyClearanceWorkflow

__all__ = ["AgencyClearanceWorkflow"]
