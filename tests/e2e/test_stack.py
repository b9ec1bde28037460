"""`jfc up` as a user runs it: everything starts, Ctrl-C stops every process, a restart resumes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from cli.demo import demo_applications
from tests.e2e.conftest import first_feasible_day
from tests.servers import quiet_ports

STARTUP_SECONDS = 90


def start_stack(env: dict[str, str], out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", "up"], env=env, stdout=open(out, "w"), stderr=subprocess.STDOUT
    )


def wait_until_up(proc: subprocess.Popen, out: Path, api: str) -> list[int]:
    give_up = time.monotonic() + STARTUP_SECONDS
    while "JFC is up" not in out.read_text():
        assert proc.poll() is None, f"jfc up exited early:\n{out.read_text()}"
        assert time.monotonic() < give_up, f"jfc up not ready:\n{out.read_text()}"
        time.sleep(0.2)
    assert httpx.get(f"{api}/healthz").status_code == 200
    return [int(pid) for pid in re.findall(r"\(pid (\d+)[,)]", out.read_text())]


def stop_with_ctrl_c(proc: subprocess.Popen, pids: list[int]) -> None:
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 0
    running = [pid for pid in pids if is_running(pid)]
    assert not running, f"still running after Ctrl-C: {running}"


def is_running(pid: int) -> bool:
    """Alive and not a zombie (a container's init may be slow to reap the postmaster)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_up_starts_everything_stops_on_ctrl_c_and_resumes(tmp_path: Path) -> None:
    ports = dict(zip(("temporal", "ui", "api", "sim"), quiet_ports(4)))
    api = f"http://127.0.0.1:{ports['api']}"
    env = {
        **os.environ,
        "JFC_STATE_DIR": str(tmp_path / "state"),
        "TEMPORAL_ADDRESS": f"127.0.0.1:{ports['temporal']}",
        "JFC_TEMPORAL_UI_PORT": str(ports["ui"]),
        "JFC_API_PORT": str(ports["api"]),
        "JFC_SIMULATOR_PORT": str(ports["sim"]),
        "JFC_PUBLIC_BASE_URL": api,
        "JFC_SIMULATOR_URL": f"http://127.0.0.1:{ports['sim']}",
    }
    env.pop("DATABASE_URL", None)  # the embedded PostgreSQL
    out = tmp_path / "up.log"
    proc = start_stack(env, out)
    try:
        pids = wait_until_up(proc, out, api)
        assert len(pids) == 5  # postgres, temporal, agencies, worker, api
        tokens = json.loads((tmp_path / "state" / "demo-tokens.json").read_text())
        assert {"applicant", "applicant_b", "officer", "auditor", "agency:parks", "agency:police"} <= set(tokens)
        assert oct((tmp_path / "state" / "demo-tokens.json").stat().st_mode & 0o777) == "0o600"
        body = demo_applications(first_feasible_day())[0]
        applicant = {"Authorization": f"Bearer {tokens['applicant']}"}
        submitted = httpx.post(
            f"{api}/v1/permits", json=body, headers={**applicant, "Idempotency-Key": str(uuid.uuid4())}
        )
        assert submitted.status_code == 202, submitted.text
        application_id = submitted.json()["id"]
        stop_with_ctrl_c(proc, pids)
        assert not (tmp_path / "state" / "postgres" / "postmaster.pid").exists(), "embedded PostgreSQL still running"

        proc = start_stack(env, out)
        pids = wait_until_up(proc, out, api)
        give_up = time.monotonic() + 60
        while (status := httpx.get(f"{api}/v1/permits/{application_id}", headers=applicant).json())[
            "status"
        ] != "awaiting_payment":
            assert time.monotonic() < give_up, status
            time.sleep(0.3)
        stop_with_ctrl_c(proc, pids)
    finally:
        if proc.poll() is None:  # a failed assertion: still stop every service it started
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
