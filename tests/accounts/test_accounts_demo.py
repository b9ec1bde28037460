"""Demo accounts for `jfc up`: one per role and agency, tokens in a 0600 file, kept while they work."""

from __future__ import annotations

import json
import stat

from store.accounts import (
    Role,
    authenticate,
    ensure_demo_accounts,
    list_accounts,
    revoke,
)

AGENCIES = ["parks", "police", "aviation"]
KEYS = {"applicant", "applicant_b", "officer", "auditor", "agency:parks", "agency:police", "agency:aviation"}


async def test_the_file_has_every_role_and_is_private(pool, tmp_path):
    path = tmp_path / "state" / "demo-tokens.json"
    tokens = await ensure_demo_accounts(pool, path, AGENCIES)

    assert set(tokens) == KEYS
    assert json.loads(path.read_text()) == tokens
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["demo-tokens.json"]  # no temporary file left behind

    principals = {key: await authenticate(pool, token) for key, token in tokens.items()}
    assert {key: p.role for key, p in principals.items()} == {
        "applicant": Role.applicant, "applicant_b": Role.applicant, "officer": Role.officer,
        "auditor": Role.auditor, **{f"agency:{code}": Role.agency for code in AGENCIES},
    }
    assert principals["applicant"].organisation_id != principals["applicant_b"].organisation_id
    assert {principals[f"agency:{code}"].agency for code in AGENCIES} == set(AGENCIES)
    organisations = {a.organisation for a in await list_accounts(pool) if a.role is Role.applicant}
    assert organisations == {"PT Contoh Film", "PT Lain Sinema"}


async def test_a_second_call_changes_nothing(pool, tmp_path):
    path = tmp_path / "demo-tokens.json"
    first = await ensure_demo_accounts(pool, path, AGENCIES)
    written = path.stat().st_mtime_ns

    assert await ensure_demo_accounts(pool, path, AGENCIES) == first
    assert path.stat().st_mtime_ns == written
    assert len(await list_accounts(pool)) == len(KEYS)


async def test_a_revoked_token_is_replaced_and_the_others_kept(pool, tmp_path):
    path = tmp_path / "demo-tokens.json"
    first = await ensure_demo_accounts(pool, path, AGENCIES)
    officer = await authenticate(pool, first["officer"])
    await revoke(pool, officer.account_id)

    second = await ensure_demo_accounts(pool, path, AGENCIES)

    assert second["officer"] != first["officer"]
    assert (await authenticate(pool, second["officer"])).is_officer
    assert {k: v for k, v in second.items() if k != "officer"} == {k: v for k, v in first.items() if k != "officer"}
    assert json.loads(path.read_text()) == second
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_tokens_of_another_database_or_a_damaged_file_are_replaced(pool, tmp_path):
    path = tmp_path / "demo-tokens.json"
    path.write_text(json.dumps({key: "jfc_from-a-database-long-gone" for key in KEYS}))
    tokens = await ensure_demo_accounts(pool, path, AGENCIES)
    assert all([await authenticate(pool, token) for token in tokens.values()])

    path.write_text("{not json")
    again = await ensure_demo_accounts(pool, path, AGENCIES)
    assert set(again) == KEYS and set(again.values()).isdisjoint(tokens.values())


async def test_a_token_of_the_wrong_role_does_not_count(pool, tmp_path):
    path = tmp_path / "demo-tokens.json"
    tokens = await ensure_demo_accounts(pool, path, AGENCIES)
    swapped = {**tokens, "officer": tokens["auditor"], "applicant_b": tokens["applicant"]}
    path.write_text(json.dumps(swapped))

    fixed = await ensure_demo_accounts(pool, path, AGENCIES)

    assert (await authenticate(pool, fixed["officer"])).is_officer
    b = await authenticate(pool, fixed["applicant_b"])
    assert b.organisation_id != (await authenticate(pool, fixed["applicant"])).organisation_id


async def test_an_agency_gone_from_the_catalog_loses_its_demo_account(pool, tmp_path):
    path = tmp_path / "demo-tokens.json"
    tokens = await ensure_demo_accounts(pool, path, AGENCIES)

    fewer = await ensure_demo_accounts(pool, path, ["parks", "police"])

    assert "agency:aviation" not in fewer
    assert await authenticate(pool, tokens["agency:aviation"]) is None
    assert all(fewer[k] == tokens[k] for k in fewer)
