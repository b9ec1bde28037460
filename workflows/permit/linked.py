"""The incentives linked to a permit (design §4): told when photography starts, when it ends, and if the permit closes.

Each signal is sent beside the workflow; an incentive that links late is told at once what already
happened. The permit waits for `idle()` before it ends.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from temporalio import workflow

from schemas.contracts import SIGNAL_PERMIT_EVENT
from schemas.incentive_contracts import PermitEvent, PermitEventKind


class LinkedIncentives:
    """Who to tell, and what has happened so far."""

    def __init__(self, permit_id: str) -> None:
        self._permit_id = permit_id
        self.ids: list[str] = []
        self.told: list[PermitEvent] = []  # every event so far, in order: a late link hears them all
        self._tasks: set[asyncio.Task[None]] = set()

    def link(self, incentive_id: str) -> None:
        if incentive_id in self.ids:
            return
        self.ids.append(incentive_id)
        for event in self.told:
            self._send(incentive_id, event)

    def tell(self, kind: PermitEventKind, status: str, shoot_dates: list[dt.date]) -> None:
        if any(e.kind == kind for e in self.told):
            return
        event = PermitEvent(permit_id=self._permit_id, kind=kind, at=workflow.now(), status=status,
                            shoot_dates=shoot_dates)
        self.told.append(event)
        for incentive_id in self.ids:
            self._send(incentive_id, event)

    def happened(self, kind: PermitEventKind) -> bool:
        return any(e.kind == kind for e in self.told)

    def idle(self) -> bool:
        return not self._tasks

    def _send(self, incentive_id: str, event: PermitEvent) -> None:
        task = asyncio.create_task(self._signal(incentive_id, event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _signal(self, incentive_id: str, event: PermitEvent) -> None:
        try:
            await workflow.get_external_workflow_handle(incentive_id).signal(SIGNAL_PERMIT_EVENT, event)
        except Exception:  # noqa: BLE001 — the incentive has ended
            workflow.logger.info("Linked incentive %s no longer runs", incentive_id)
