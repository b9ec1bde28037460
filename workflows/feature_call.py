"""One call of the first-feature fund (design §4): open until its deadline, then a panel scores, grants go in rank order.

The workflow id is `feature_call_workflow_id(call id)`. Applications enter by signal while the call
is open. After the deadline each is scored by `panel_size` different officers (the `score` update);
then they are ranked by mean score (the earlier application first on a tie) and each is granted what
it asked for while the fund lasts: the first that no longer fits ends the awards, and it and everyone
after it are told so, with their rank.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.contracts import (
        FEATURE_CALL_WORKFLOW,
        QUERY_CALL,
        SIGNAL_CALL_ENTRY,
        SIGNAL_CALL_RESULT,
        UPDATE_SCORE,
    )
    from schemas.incentive_contracts import (
        CallEntry,
        CallEntryView,
        CallResult,
        CallView,
        CallWorkflowInput,
        FundMoveInput,
        FundReserveInput,
        PanelScore,
    )
    from schemas.problems import Problem
    from workflows.incentive import calls
    from workflows.notifier import OFFICER, Notifier
    from workflows.refusals import invalid_request, state_conflict


@workflow.defn(name=FEATURE_CALL_WORKFLOW)
class FeatureCallWorkflow:
    """A call: its entries, the panel's scores and the awards."""

    @workflow.init
    def __init__(self, input: CallWorkflowInput) -> None:
        self.input = input
        self.view = CallView(call_id=input.call.id, fiscal_year=input.call.fiscal_year, deadline=input.call.deadline,
                             panel_size=input.call.panel_size, status="open")
        self.notifier = Notifier(f"call:{input.call.id}", None, None)
        self._late: list[asyncio.Task[None]] = []

    @workflow.signal(name=SIGNAL_CALL_ENTRY)
    def call_entry(self, entry: CallEntry) -> None:
        if any(e.incentive_id == entry.incentive_id for e in self.view.entries):
            return
        if self.view.status != "open" or workflow.now() > self.input.call.deadline:
            self._late.append(asyncio.create_task(self._tell(entry.incentive_id, CallResult(
                call_id=self.view.call_id, awarded=False, reason=f"the call closed on {self.input.call.deadline}"))))
            return
        self.view.entries.append(CallEntryView(incentive_id=entry.incentive_id, production_title=entry.production_title,
                                               requested_grant_idr=entry.requested_grant_idr,
                                               submitted_at=entry.submitted_at))

    @workflow.update(name=UPDATE_SCORE)
    async def score(self, score: PanelScore) -> CallView:
        entry = self._entry(score.incentive_id)
        assert entry is not None
        entry.scores.append(score)
        entry.mean_score = sum(s.score for s in entry.scores) / len(entry.scores)
        return self.view

    @score.validator
    def _validate_score(self, score: PanelScore) -> None:
        if self.view.status != "scoring":
            raise state_conflict(f"call {self.view.call_id} is {self.view.status}: scores are given after its "
                                 f"deadline ({self.input.call.deadline}) and before the awards")
        entry = self._entry(score.incentive_id)
        if entry is None:
            raise invalid_request("score refused", [Problem(
                path="incentive_id", message=f"{score.incentive_id!r} is not an application to call {self.view.call_id}")])
        if any(s.officer == score.officer for s in entry.scores):
            raise state_conflict(f"{score.officer} has already scored {score.incentive_id}; another panel member "
                                 "scores next")

    @workflow.query(name=QUERY_CALL)
    def call(self) -> CallView:
        return self.view

    @workflow.run
    async def run(self, input: CallWorkflowInput) -> CallView:
        view = self.view
        remaining = input.call.deadline - workflow.now()
        if remaining.total_seconds() > 0:
            await workflow.sleep(remaining, summary="call deadline")
        view.status = "scoring"
        if view.entries:
            self.notifier.send("panel_scoring", OFFICER, f"call {view.call_id}: {len(view.entries)} applications")
            await workflow.wait_condition(
                lambda: all(len(e.scores) >= input.call.panel_size for e in view.entries))
        await self._award()
        view.status = "awarded"
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() and self.notifier.idle()
                                      and all(t.done() for t in self._late))
        return view

    async def _award(self) -> None:
        """In rank order, each gets what it asked for while the fund holds it; the first that does not fit ends it."""
        ranked = sorted(self.view.entries, key=lambda e: (-(e.mean_score or 0), e.submitted_at, e.incentive_id))
        exhausted_at: int | None = None
        for rank, entry in enumerate(ranked, start=1):
            entry.rank = rank
            if exhausted_at is None:
                result = await calls.reserve(FundReserveInput(
                    fiscal_year=self.view.fiscal_year, programme=self.input.programme.code.value,
                    incentive_id=entry.incentive_id, amount_idr=entry.requested_grant_idr,
                    key=f"{entry.incentive_id}:reserve", reason=f"call {self.view.call_id}, rank {rank}",
                    default_capacity_idr=self.input.programme.default_capacity_idr))
                if result.state == "reserved":
                    entry.result = CallResult(call_id=self.view.call_id, awarded=True, reserved_idr=result.reserved_idr,
                                              rank=rank, score=entry.mean_score,
                                              reason=f"ranked {rank} of {len(ranked)} (score {entry.mean_score:.1f})")
                    if not await self._tell(entry.incentive_id, entry.result):  # withdrawn meanwhile
                        await self._release(entry.incentive_id, "the application was withdrawn before its award")
                    continue
                await self._release(entry.incentive_id, "the fund cannot hold this grant")
                exhausted_at = rank
            entry.result = CallResult(call_id=self.view.call_id, awarded=False, rank=rank, score=entry.mean_score,
                                      reason=f"ranked {rank} of {len(ranked)} (score {entry.mean_score:.1f}); the "
                                             f"fund was exhausted at rank {exhausted_at}")
            await self._tell(entry.incentive_id, entry.result)

    async def _release(self, incentive_id: str, reason: str) -> None:
        await calls.release(FundMoveInput(incentive_id=incentive_id, key=f"{incentive_id}:release:call", reason=reason))

    async def _tell(self, incentive_id: str, result: CallResult) -> bool:
        try:
            await workflow.get_external_workflow_handle(incentive_id).signal(SIGNAL_CALL_RESULT, result)
        except Exception:  # noqa: BLE001 — the application has ended
            return False
        return True

    def _entry(self, incentive_id: str) -> CallEntryView | None:
        return next((e for e in self.view.entries if e.incentive_id == incentive_id), None)
