"""Secrets: production never invents one, and the local files holding them are 0600 from their first byte."""

from __future__ import annotations

import asyncio
import base64
import os
import stat
from pathlib import Path

import pytest

from config.secrets import (
    CODEC_KEYS_FILE,
    DEV_SECRETS_FILE,
    MissingSecretError,
    codec_keys,
    new_codec_key_entry,
    webhook_secret,
)
from config.settings import Settings
from store.accounts import write_private_json
from workers.temporal import connect

AGENCY_REFS = ["parks", "heritage", "district", "transport", "police", "fire", "aviation", "transit",
               "culture_ministry"]
ALL_REFS = [*AGENCY_REFS, "payments", "audit"]


@pytest.fixture
def no_secrets(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith("JFC_SECRET_") or name in ("JFC_ENV", "JFC_CODEC_KEYS"):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.fixture
def open_umask():
    """The most careless umask there is: files get exactly the mode they are created with."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_production_refuses_a_missing_webhook_secret_naming_its_variable(tmp_path, no_secrets) -> None:
    no_secrets.setenv("JFC_ENV", "production")
    with pytest.raises(MissingSecretError, match="JFC_SECRET_POLICE") as err:
        webhook_secret("police", tmp_path)
    assert err.value.variables == ["JFC_SECRET_POLICE"]
    assert not list(tmp_path.iterdir())  # nothing generated
    no_secrets.setenv("JFC_SECRET_POLICE", "from-the-secret-store")
    assert webhook_secret("police", tmp_path) == b"from-the-secret-store"


def test_local_generates_a_dev_secret_once(tmp_path, no_secrets) -> None:
    first = webhook_secret("parks", tmp_path)
    assert webhook_secret("parks", tmp_path) == first and webhook_secret("fire", tmp_path) != first
    with pytest.raises(MissingSecretError, match="JFC_SECRET_PARKS"):
        webhook_secret("parks", tmp_path, env="production")


def test_production_refuses_missing_codec_keys_naming_the_variable(tmp_path, no_secrets) -> None:
    with pytest.raises(MissingSecretError, match="JFC_CODEC_KEYS"):
        codec_keys(Settings(state_dir=tmp_path, env="production"))
    assert not (tmp_path / CODEC_KEYS_FILE).exists()
    entry = new_codec_key_entry()
    key_id, _, key = entry.partition(":")
    assert [k.id for k in codec_keys(Settings(state_dir=tmp_path, env="production", codec_keys=entry))] == [key_id]
    assert len(base64.b64decode(key)) == 32


async def test_a_production_process_refuses_to_start_naming_every_missing_secret(tmp_path, no_secrets) -> None:
    no_secrets.setenv("JFC_CODEC_KEYS", new_codec_key_entry())
    for ref in ALL_REFS:
        if ref not in ("police", "audit"):
            no_secrets.setenv(f"JFC_SECRET_{ref.upper()}", f"secret-{ref}")
    settings = Settings(state_dir=tmp_path, env="production", temporal_address="127.0.0.1:1")
    with pytest.raises(MissingSecretError) as err:
        await connect(settings, wait_seconds=0)
    assert err.value.variables == ["JFC_SECRET_AUDIT", "JFC_SECRET_POLICE"]
    assert "JFC_SECRET_AUDIT, JFC_SECRET_POLICE not set" in str(err.value)

    for ref in ("police", "audit"):
        no_secrets.setenv(f"JFC_SECRET_{ref.upper()}", f"secret-{ref}")
    no_secrets.delenv("JFC_CODEC_KEYS")
    with pytest.raises(MissingSecretError, match="JFC_CODEC_KEYS"):
        await connect(Settings(state_dir=tmp_path, env="production", temporal_address="127.0.0.1:1"), wait_seconds=0)
    # with every secret given, it gets as far as Temporal itself
    no_secrets.setenv("JFC_CODEC_KEYS", new_codec_key_entry())
    with pytest.raises(RuntimeError, match="cannot reach Temporal"):
        await connect(Settings(state_dir=tmp_path, env="production", temporal_address="127.0.0.1:1"), wait_seconds=0)
    assert not list(tmp_path.iterdir())  # production wrote no secret file


def test_the_env_setting_accepts_local_and_production_only(monkeypatch) -> None:
    monkeypatch.setenv("JFC_ENV", "production")
    assert Settings().env == "production"
    monkeypatch.setenv("JFC_ENV", "staging")
    with pytest.raises(ValueError, match="env"):
        Settings()
    monkeypatch.delenv("JFC_ENV")
    assert Settings().env == "local"


def test_dev_secrets_file_is_0600_from_creation_whatever_the_umask(tmp_path, no_secrets, open_umask) -> None:
    webhook_secret("parks", tmp_path)
    assert mode(tmp_path / DEV_SECRETS_FILE) == 0o600
    webhook_secret("police", tmp_path)  # rewritten with a second secret: still 0600
    assert mode(tmp_path / DEV_SECRETS_FILE) == 0o600
    assert not (tmp_path / "dev-secrets.tmp").exists()


def test_codec_key_file_is_0600_from_creation_whatever_the_umask(tmp_path, no_secrets, open_umask) -> None:
    codec_keys(Settings(state_dir=tmp_path))
    assert mode(tmp_path / CODEC_KEYS_FILE) == 0o600


def test_demo_tokens_file_is_0600_from_creation_whatever_the_umask(tmp_path, open_umask) -> None:
    path = tmp_path / "demo-tokens.json"
    write_private_json(path, {"officer": "jfc_secret"})
    assert mode(path) == 0o600


def test_secret_files_are_never_created_wider_than_0600(tmp_path, no_secrets, open_umask, monkeypatch) -> None:
    """Every file creation in the state folder asks for 0600 itself: no window where the secret is readable."""
    real_open = os.open
    created: list[tuple[str, int]] = []

    def spy(path, flags, mode=0o777, *args, **kwargs):
        if flags & os.O_CREAT and str(path).startswith(str(tmp_path)):
            created.append((Path(path).name, mode))
        return real_open(path, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    webhook_secret("parks", tmp_path)
    codec_keys(Settings(state_dir=tmp_path))
    write_private_json(tmp_path / "demo-tokens.json", {"officer": "jfc_secret"})
    assert all(m == 0o600 for _, m in created), created
    for secret_file in ("dev-secrets", "codec-keys", "demo-tokens"):
        assert any(secret_file in name for name, _ in created), created
    assert all(mode(p) == 0o600 for p in tmp_path.iterdir())


async def test_processes_starting_together_agree_on_one_codec_key(tmp_path, no_secrets) -> None:
    settings = Settings(state_dir=tmp_path)
    keys = await asyncio.gather(*[asyncio.to_thread(codec_keys, settings) for _ in range(8)])
    assert all(k == keys[0] for k in keys)
    assert [p.name for p in tmp_path.iterdir()] == [CODEC_KEYS_FILE]
