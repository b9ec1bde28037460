"""The bare workflows' worker as a process of its own, as `bench/throughput.py` runs it beside the JFC worker's.

    .venv/bin/python -m bench.bare_worker --address 127.0.0.1:7233 --task-queue bare-bench [--delay-ms 0]

Runs until SIGTERM or SIGINT. The workflow classes come from `bench.bare`, an importable module, as the sandbox
requires.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from bench.bare import BareActivities, BareChild, BareParent


async def serve(address: str, task_queue: str, delay_s: float) -> None:
    """Poll `task_queue` for the bare parents and children until told to stop."""
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    client = await Client.connect(address, data_converter=pydantic_data_converter)
    activities = BareActivities(client, delay_s)
    async with Worker(client, task_queue=task_queue, workflows=[BareParent, BareChild],
                      activities=[activities.submit, activities.issue]):
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--address", required=True, help="the Temporal server, host:port")
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--delay-ms", type=int, default=0, help="how long the 'agency' takes to signal its decision")
    args = parser.parse_args()
    asyncio.run(serve(args.address, args.task_queue, args.delay_ms / 1000))
    sys.stdout.flush()
    os._exit(0)  # temporalio's core can abort the interpreter at exit (sdk-python issue 300)


if __name__ == "__main__":
    main()
