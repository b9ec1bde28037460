"""A configuration `jfc` cannot start with ends it with what is wrong and where (stderr, exit code 2), no traceback:
a settings variable, a rule data file, a missing production secret; `jfc up` checks the rule data before it starts
anything, and says why a service it started stopped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.stack import last_lines
from config.errors import ConfigurationError, SettingsError
from config.settings import PACKAGED_DATA, load_settings

ROOT = Path(__file__).resolve().parents[1]


def jfc(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`jfc <args>` as the installed command runs it (`cli.main:main`), in a clean JFC environment plus `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JFC_") and k not in ("DATABASE_URL",
                                                                                            "TEMPORAL_ADDRESS")}
    return subprocess.run([sys.executable, "-c", "from cli.main import main; main()", *args], cwd=ROOT,
                          env={**clean, "TEMPORAL_ADDRESS": "localhost:1", **env}, capture_output=True, text=True,
                          timeout=timeout)


def broken_catalog(tmp_path: Path) -> tuple[Path, int]:
    """The packaged catalog with the first agency's SLA made negative; returns the file and that line's number."""
    lines = (PACKAGED_DATA / "agencies.toml").read_text().splitlines()
    n = next(i for i, line in enumerate(lines) if line.startswith("sla_days = "))
    lines[n] = "sla_days = -2"
    path = tmp_path / "agencies.toml"
    path.write_text("\n".join(lines) + "\n")
    return path, n + 1


def test_settings_that_cannot_be_used_name_each_variable_and_what_it_holds(monkeypatch) -> None:
    monkeypatch.setenv("JFC_API_PORT", "eighty")
    monkeypatch.setenv("JFC_MAX_CACHED_WORKFLOWS", "-1")
    monkeypatch.setenv("JFC_ENV", "prod")

    with pytest.raises(SettingsError) as refused:
        load_settings()

    message = str(refused.value)
    assert "JFC_API_PORT='eighty': Input should be a valid integer" in message
    assert "JFC_MAX_CACHED_WORKFLOWS='-1': Input should be greater than or equal to 0" in message
    assert "JFC_ENV='prod': Input should be 'local' or 'production'" in message
    assert isinstance(refused.value, ConfigurationError)


@pytest.mark.parametrize("command", ["worker", "api", "up"])
def test_a_broken_catalog_stops_the_command_naming_file_line_and_field(tmp_path: Path, command: str) -> None:
    catalog, line = broken_catalog(tmp_path)
    state = tmp_path / "state"

    run = jfc([command], {"JFC_AGENCIES_FILE": str(catalog), "JFC_STATE_DIR": str(state)})

    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith(f"jfc: cannot start: {catalog}:{line}: agencies[0].sla_days: "), run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    if command == "up":
        assert not state.exists()  # nothing was started: no database, no Temporal file, no logs


def test_a_bad_settings_variable_stops_the_command_naming_it(tmp_path: Path) -> None:
    run = jfc(["api"], {"JFC_API_PORT": "eighty", "JFC_STATE_DIR": str(tmp_path)})

    assert run.returncode == 2
    assert run.stderr.startswith("jfc: cannot start: invalid settings: JFC_API_PORT='eighty': "), run.stderr
    assert "Traceback" not in run.stderr


def test_malformed_codec_keys_stop_the_worker_naming_the_entry_never_the_key(tmp_path: Path) -> None:
    run = jfc(["worker"], {"JFC_CODEC_KEYS": "k1:not-base64!", "JFC_STATE_DIR": str(tmp_path)})

    assert run.returncode == 2
    assert run.stderr.startswith("jfc: cannot start: JFC_CODEC_KEYS: the key of 'k1' is not base64"), run.stderr
    assert "not-base64!" not in run.stderr
    assert "Traceback" not in run.stderr


def test_production_without_its_secrets_names_the_variables_to_set(tmp_path: Path) -> None:
    run = jfc(["worker"], {"JFC_ENV": "production", "JFC_STATE_DIR": str(tmp_path)})

    assert run.returncode == 2
    assert run.stderr.startswith("jfc: cannot start: "), run.stderr
    assert "JFC_SECRET_PARKS" in run.stderr and "not set" in run.stderr
    assert "Traceback" not in run.stderr


def test_why_a_service_stopped_is_its_logs_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    log.write_text("started\n\nconnecting\njfc: cannot start: JFC_SECRET_PARKS not set\n\n")

    assert last_lines(log, 2) == "  connecting\n  jfc: cannot start: JFC_SECRET_PARKS not set"
