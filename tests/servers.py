"""Serving an ASGI app on a real loopback port inside the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn


def free_port() -> int:
    """A port free now; fine when it is bound again at once (an ephemeral port another process may take)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def quiet_ports(count: int) -> list[int]:
    """Distinct free ports below the kernel's ephemeral range, so no process binding port 0 takes one meanwhile.

    For services bound later, or again after a restart (the stack test).
    """
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    found: list[int] = []
    for port in random.sample(range(20000, min(low, 32000)), 500):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        found.append(port)
        if len(found) == count:
            return found
    raise RuntimeError("not enough free ports below the ephemeral range")


@asynccontextmanager
async def serve(app, port: int | None = None) -> AsyncIterator[str]:
    """Run `app` with uvicorn on 127.0.0.1 and yield its base URL; stops it on exit."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port or 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2))
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]  # leave pytest's handlers alone
    task = asyncio.create_task(server.serve(sockets=[sock]))
    give_up = asyncio.get_running_loop().time() + 5
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("uvicorn stopped before starting")
        if asyncio.get_running_loop().time() > give_up:
            raise TimeoutError("uvicorn did not start within 5 s")
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=5)
        sock.close()
