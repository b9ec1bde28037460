"""What N open applications cost at rest: N park shoots submitted through the API and left waiting on a silent
parks agency (the simulator's `decision = silent`: it accepts every request and never decides).

The stack is `jfc up`'s (cli/stack.py), in a temporary state folder on free ports: one dev server with SQLite
state, the simulator, one worker and the API as their own processes (`python -m cli.main worker`, ...), and the
embedded PostgreSQL. The catalog is the packaged one with every agency allowed 200 calls per second and lost
webhooks looked for only after a week, so neither pacing nor polling runs during the measurement. Prints the
worker's and the dev server's RSS (psutil, each its own process), the state folder's size, and the time of a
status query (`GET /v1/permits/{id}`: of 20 applications across all, most not in the worker's cache, and of one
application 20 times) and of a list query (`GET /v1/permits?limit=50`), p50 of 20 each, once the worker is idle. Target:
worker RSS < 500 MB.

    .venv/bin/python bench/open_applications.py [-n 10000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rich.console import Console

from tests.servers import free_port  # noqa: E402

CALLS_PER_SECOND = 200
RECONCILE_AFTER_MINUTES = 7 * 24 * 60  # the catalog's maximum: no status poll during the run


def bench_catalog(folder: Path) -> Path:
    """The packaged catalog, paced for a benchmark and without lost-webhook polls."""
    text = (ROOT / "config" / "agencies.toml").read_text()
    text = re.sub(r"(?m)^calls_per_second = .*$", f"calls_per_second = {CALLS_PER_SECOND}", text)
    text = re.sub(r"(?m)^reconcile_after_minutes = .*$", f"reconcile_after_minutes = {RECONCILE_AFTER_MINUTES}", text)
    path = folder / "agencies.toml"
    path.write_text(text)
    return path


def park_shoot(n: int, first_day: dt.date) -> dict:
    """A park shoot for a crew of 20: parks only."""
    return {
        "applicant": {"company": "PT Bench Film", "country": "ID", "contact_name": "Sari", "email": "sari@bench.id",
                      "phone": "+62 812 0000 0000"},
        "production": {"title": f"Bench {n}", "kind": "feature_film"},
        "locations": [{"name": "Taman Suropati", "kind": "park", "address": "Jl. Taman Suropati", "city": "Jakarta",
                       "lat": -6.199, "lon": 106.832, "crew_size": 20,
                       "days": [{"date": first_day.isoformat(), "start": "06:00", "end": "18:00"}]}],
        "insurance": {"insurer": "PT Asuransi", "policy_number": "P-1", "coverage_idr": 5_000_000_000,
                      "valid_until": (first_day + dt.timedelta(days=365)).isoformat()},
    }


def wait_idle(pid: int, timeout: float, below_percent: float = 5.0, window: float = 5.0) -> None:
    """Until the process (the worker) spends under `below_percent` of a core over `window` seconds: the last
    acceptances, parent signals and projections are done, so the figures are taken at rest."""
    proc = psutil.Process(pid)
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.cpu_percent(interval=window) < below_percent:
            print(f"worker_idle_after_s={time.monotonic() - started:.0f}", flush=True)
            return
    print(f"warning: the worker was still busy after {timeout:.0f} s", flush=True)


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and "postgres" not in p.parts)


def rss(pid: int) -> int:
    """RSS of the process and its children (the CLI process is the worker itself; children, if any, count)."""
    proc = psutil.Process(pid)
    return proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))


async def submit_all(api: str, token: str, n: int, concurrency: int) -> list[str]:
    first_day = dt.date.today() + dt.timedelta(weeks=8)
    ids: list[str | None] = [None] * n
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)
    started = time.monotonic()

    async def submitter(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            while True:
                answer = await http.post("/v1/permits", json=park_shoot(i, first_day),
                                         headers={"Idempotency-Key": f"bench-open-{i}"})
                if answer.status_code in (429, 503):
                    await asyncio.sleep(float(answer.headers.get("Retry-After", 1)))
                    continue
                answer.raise_for_status()
                ids[i] = answer.json()["id"]
                break
            done = sum(x is not None for x in ids)
            if done % 500 == 0:
                print(f"  submitted {done}/{n} ({done / (time.monotonic() - started):.1f}/s)", flush=True)

    async with httpx.AsyncClient(base_url=api, headers={"Authorization": f"Bearer {token}"}, timeout=120) as http:
        await asyncio.gather(*(submitter(http) for _ in range(concurrency)))
    print(f"submitted={n} seconds={time.monotonic() - started:.1f}", flush=True)
    return [i for i in ids if i]


async def wait_open(api: str, token: str, ids: list[str], timeout: float) -> None:
    """Until every sampled application waits in review on its agency (the last ones submitted, and a spread); after
    `timeout` the figures are taken anyway, with a warning."""
    sample = sorted(set(ids[-20:] + ids[:: max(len(ids) // 50, 1)]))
    deadline = time.monotonic() + timeout
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=api, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        while sample:
            answers = [await http.get(f"/v1/permits/{i}") for i in sample]
            sample = [i for i, a in zip(sample, answers, strict=True) if a.json().get("status") != "in_review"]
            if time.monotonic() > deadline:
                print(f"warning: {len(sample)} sampled applications still not in review: {sample[:5]}", flush=True)
                return
            if sample:
                await asyncio.sleep(2)
    print(f"in_review_after_submission_s={time.monotonic() - started:.0f}", flush=True)


async def timed(http: httpx.AsyncClient, paths: list[str]) -> float:
    took = []
    for path in paths:
        start = time.perf_counter()
        (await http.get(path)).raise_for_status()
        took.append((time.perf_counter() - start) * 1000)
    return statistics.median(took)


async def measure(api: str, token: str, ids: list[str]) -> tuple[float, float, float]:
    """p50 of a status query of 20 applications spread over all (most not in the worker's cache: a replay each),
    of 20 of one application (cached after the first), and of 20 list queries."""
    spread = [f"/v1/permits/{i}" for i in ids[:: max(len(ids) // 20, 1)][:20]]
    async with httpx.AsyncClient(base_url=api, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        cold_ms = await timed(http, spread)
        warm_ms = await timed(http, [f"/v1/permits/{ids[len(ids) // 2]}"] * 20)
        list_ms = await timed(http, ["/v1/permits?limit=50"] * 20)
    return cold_ms, warm_ms, list_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000, help="open applications (default 10,000)")
    parser.add_argument("--concurrency", type=int, default=16, help="submissions in flight")
    parser.add_argument("--settle", type=float, default=30.0, help="seconds to let the worker settle before measuring")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="jfc-open-") as tmp:
        state = Path(tmp) / "state"
        state.mkdir()
        temporal, api_port, sim_port, ui_port = (free_port() for _ in range(4))
        os.environ.update({
            "JFC_STATE_DIR": str(state), "TEMPORAL_ADDRESS": f"127.0.0.1:{temporal}",
            "JFC_API_PORT": str(api_port), "JFC_SIMULATOR_PORT": str(sim_port), "JFC_TEMPORAL_UI_PORT": str(ui_port),
            "JFC_PUBLIC_BASE_URL": f"http://127.0.0.1:{api_port}", "JFC_SIMULATOR_URL": f"http://127.0.0.1:{sim_port}",
            "JFC_AGENCIES_FILE": str(bench_catalog(Path(tmp))), "JFC_LOG_LEVEL": "warning",
        })
        os.environ.pop("DATABASE_URL", None)
        from cli.stack import Stack, services
        from config.settings import Settings

        settings = Settings()
        stack = Stack(settings, Console(stderr=True))
        try:
            stack.start_database()
            tokens = json.loads(stack.create_demo_accounts().read_text())
            by_name = {s.name: s for s in services(settings)}
            for name in ("temporal", "agencies", "worker", "api"):
                stack.start(by_name[name])
            api = settings.public_base_url
            httpx.put(f"{settings.simulator_url}/admin/agencies/parks", json={"decision": "silent"}).raise_for_status()
            ids = asyncio.run(submit_all(api, tokens["applicant"], args.n, args.concurrency))
            asyncio.run(wait_open(api, tokens["officer"], ids, timeout=max(900.0, args.n * 0.6)))
            time.sleep(args.settle)
            wait_idle(by_name["worker"].process.pid, timeout=max(600.0, args.n * 0.3))
            cold_ms, warm_ms, list_ms = asyncio.run(measure(api, tokens["officer"], ids))
            worker_mb = rss(by_name["worker"].process.pid) / 2**20
            server_mb = rss(by_name["temporal"].process.pid) / 2**20
            print(f"open_applications={len(ids)}")
            print(f"worker_rss_mb={worker_mb:.0f} (target < 500)")
            print(f"server_rss_mb={server_mb:.0f}")
            print(f"state_folder_mb={folder_size(state) / 2**20:.1f} (Temporal SQLite, simulator, documents, logs; "
                  "PostgreSQL not counted)")
            print(f"status_query_p50_ms={cold_ms:.1f} (20 applications across all) "
                  f"status_query_cached_p50_ms={warm_ms:.1f} (one application 20 times) list_query_p50_ms={list_ms:.1f}")
        finally:
            stack.stop()  # the services newest first, then the embedded PostgreSQL


if __name__ == "__main__":
    main()
