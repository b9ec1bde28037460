"""`jfc accounts create|list|revoke` and the demo tokens of `jfc up`, on a real database."""

from __future__ import annotations

import json
import stat

from rich.console import Console

from cli.accounts import (
    create_command,
    demo_tokens_command,
    list_command,
    revoke_command,
)
from config.settings import Settings
from domain.catalog import default_rule_set


def settings_for(database_url: str, tmp_path) -> Settings:
    return Settings(database_url=database_url, state_dir=tmp_path / ".jfc")


def recording() -> Console:
    return Console(record=True, width=200, color_system=None)


def test_create_prints_the_token_once_and_list_shows_only_its_prefix(database_url, tmp_path):
    settings = settings_for(database_url, tmp_path)
    out = recording()

    assert create_command(settings, "Sari", "applicant", "PT Contoh Film", None, console=out) == 0
    printed = out.export_text()
    token = next(line for line in printed.splitlines() if line.startswith("jfc_"))
    assert "not stored" in printed

    listing = recording()
    assert list_command(settings, console=listing) == 0
    table = listing.export_text()
    assert "Sari" in table and "PT Contoh Film" in table and token[:8] in table
    assert token not in table


def test_create_refuses_what_does_not_fit(database_url, tmp_path):
    settings = settings_for(database_url, tmp_path)
    out = recording()

    assert create_command(settings, "Tax desk", "agency", None, "pajak", console=out) == 2
    assert "unknown agency code 'pajak'" in out.export_text()
    assert create_command(settings, "Sari", "applicant", None, None, console=out) == 2
    assert "needs an organisation" in out.export_text()
    empty = recording()
    list_command(settings, console=empty)
    assert "no accounts yet" in empty.export_text()


def test_revoke_by_id(database_url, tmp_path):
    settings = settings_for(database_url, tmp_path)
    out = recording()
    create_command(settings, "Dewi", "officer", None, None, console=out)
    account_id = next(word.rstrip(":") for word in out.export_text().split() if word.startswith("ACC-"))

    assert revoke_command(settings, account_id, console=out) == 0
    assert revoke_command(settings, account_id, console=out) == 1
    assert "no active account" in out.export_text()


def test_demo_tokens_cover_every_catalog_agency_and_persist(database_url, tmp_path):
    settings = settings_for(database_url, tmp_path)
    codes = [str(a.code) for a in default_rule_set(settings).catalog.agencies]

    tokens = demo_tokens_command(settings)

    path = settings.state_dir / "demo-tokens.json"
    assert set(tokens) == {"applicant", "applicant_b", "officer", "auditor", *(f"agency:{c}" for c in codes)}
    assert json.loads(path.read_text()) == tokens
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert demo_tokens_command(settings) == tokens
