"""One lane for a workflow's local activities, so at most one runs at a time.

Two local activities of one workflow in flight at once make its history depend on which finished first: live,
their results reach the workflow in the order they completed, in a replay in the order they were scheduled. The
workflow's coroutines then resume in another order and schedule what follows differently, and a replay (a query
of a closed application, a worker that lost its cache) fails as nondeterministic (temporalio/sdk-python#1578).
The notifier and the projector of one workflow share a lane; each takes what it sends only once it holds it, so
what piled up meanwhile goes out together.
"""

from __future__ import annotations

import asyncio


class LocalLane:
    """Held (`async with lane:`) for the whole of one local activity, from building its input to its result."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> None:
        await self._lock.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self._lock.release()
