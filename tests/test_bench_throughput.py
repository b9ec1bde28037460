"""bench/throughput.py runs each worker in a process of its own: the JFC one must take the bench's settings, and
both must do their batches' work (their CPU is what the bench reports as the workers')."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from bench.parts import jfc_worker_env
from config.secrets import codec_keys
from config.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
FIGURES = re.compile(r"^(jfc|bare): 2 applications in .* CPU per application: server (\d+) ms, worker (\d+) ms, "
                     r"this process (\d+) ms$", re.MULTILINE)


def test_the_jfc_worker_process_reads_the_benchs_settings(monkeypatch, tmp_path: Path) -> None:
    bench = Settings(state_dir=tmp_path, temporal_address="127.0.0.1:7999", task_queue="jfc-bench-1234",
                     agencies_file=tmp_path / "agencies.toml", JFC_PUBLIC_BASE_URL="http://127.0.0.1:8111",
                     JFC_SIMULATOR_URL="http://127.0.0.1:8112")
    env = jfc_worker_env(bench, "postgresql://bench@127.0.0.1:5999/scratch", "WARNING")
    for name in os.environ:
        if name.startswith("JFC_") or name in ("TEMPORAL_ADDRESS", "DATABASE_URL"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    worker = Settings()

    assert (worker.temporal_address, worker.task_queue, worker.agencies_file, worker.state_dir) == (
        "127.0.0.1:7999", "jfc-bench-1234", tmp_path / "agencies.toml", tmp_path)
    assert worker.database_url == "postgresql://bench@127.0.0.1:5999/scratch"
    assert (worker.public_base_url, worker.simulator_url) == ("http://127.0.0.1:8111", "http://127.0.0.1:8112")
    assert worker.allow_loopback_webhooks  # the applicant's webhooks of the bench go to this machine
    assert worker.worker_metrics_port == 0  # no clash with a worker already serving the default port
    assert codec_keys(worker) == codec_keys(bench)  # the API's client and the worker open each other's payloads


def test_a_short_run_prints_every_figure_with_both_workers_at_work() -> None:
    run = subprocess.run([sys.executable, "bench/throughput.py", "-n", "2", "--batches", "1"], cwd=ROOT,
                         capture_output=True, text=True, timeout=240)

    assert run.returncode == 0, run.stderr[-3000:]
    figures = {kind: [int(ms) for ms in cpu] for kind, *cpu in FIGURES.findall(run.stdout)}
    assert set(figures) == {"jfc", "bare"}, run.stdout
    assert all(worker > 0 for _, worker, _ in figures.values()), run.stdout
    assert re.search(r"^throughput_ratio=\d+\.\d\d events_ratio=\d+\.\d\d$", run.stdout, re.MULTILINE), run.stdout
