"""Accounts: tokens shown once and stored as hashes, roles that fit, revocation, audit rows."""

from __future__ import annotations

import datetime as dt
import hashlib

import asyncpg
import pytest

from store import audit
from store.accounts import (
    Principal,
    Role,
    authenticate,
    create_account,
    list_accounts,
    revoke,
)


async def _count(pool: asyncpg.Pool, table: str) -> int:
    return await pool.fetchval(f"SELECT count(*) FROM {table}")


async def test_a_created_token_authenticates_until_revoked(pool):
    account, token = await create_account(pool, name="Sari", role="applicant", organisation="PT Contoh Film")

    assert token.startswith("jfc_") and len(token) > 40
    assert account.id.startswith("ACC-") and account.role is Role.applicant
    assert account.organisation == "PT Contoh Film" and account.organisation_id.startswith("ORG-")
    assert account.token_prefix == token[:8]
    principal = await authenticate(pool, token)
    assert principal == Principal(
        account_id=account.id, name="Sari", role=Role.applicant, organisation_id=account.organisation_id
    )
    assert principal.is_applicant and not principal.can_see_all

    assert await revoke(pool, account.id) is True
    assert await authenticate(pool, token) is None
    assert await revoke(pool, account.id) is False  # already revoked
    assert await revoke(pool, "ACC-NOSUCHONE") is False
    [listed] = await list_accounts(pool)
    assert listed.id == account.id and listed.revoked_at is not None and not listed.active


async def test_unknown_and_malformed_tokens_do_not_authenticate(pool):
    _, token = await create_account(pool, name="Desk", role="officer")
    for bad in ("", "jfc_", token + "x", token[:-1], "Bearer " + token, "x" * 500, "jfc_" + "a" * 300):
        assert await authenticate(pool, bad) is None


async def test_only_the_hash_of_the_token_is_stored(pool):
    account, token = await create_account(pool, name="Sari", role="applicant", organisation="PT Contoh Film")
    await revoke(pool, account.id)

    stored = await pool.fetchrow("SELECT token_hash FROM accounts WHERE id = $1", account.id)
    assert stored["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    secret_part = token.removeprefix("jfc_")
    for table in ("accounts", "organisations", "audit_log"):
        rows = await pool.fetch(f"SELECT t::text AS row FROM {table} t")
        assert rows
        for row in rows:
            assert secret_part[4:] not in row["row"], f"the token leaks into {table}"
    assert all("token" not in name or name == "token_prefix" for name in type(account).model_fields)


async def test_applicants_of_one_organisation_share_it_whatever_the_letter_case(pool):
    a, _ = await create_account(pool, name="Sari", role="applicant", organisation="PT Contoh Film")
    b, _ = await create_account(pool, name="Budi", role="applicant", organisation="  pt contoh   FILM ")
    c, _ = await create_account(pool, name="Kim", role="applicant", organisation="PT Lain Sinema")

    assert a.organisation_id == b.organisation_id != c.organisation_id
    assert b.organisation == "PT Contoh Film"
    assert await _count(pool, "organisations") == 2


async def test_each_role_gets_what_it_needs(pool):
    officer, officer_token = await create_account(pool, name="Officer Dewi", role=Role.officer)
    auditor, _ = await create_account(pool, name="BPK", role="auditor")
    clerk, clerk_token = await create_account(pool, name="Parks desk", role="agency", agency="parks",
                                              known_agencies={"parks", "police"})

    assert (officer.organisation_id, officer.agency) == (None, None)
    assert clerk.agency == "parks"
    as_officer = await authenticate(pool, officer_token)
    assert as_officer.is_officer and as_officer.can_see_all and not as_officer.read_only
    as_clerk = await authenticate(pool, clerk_token)
    assert as_clerk.is_agency and not as_clerk.can_see_all
    assert as_clerk.may_see(organisation_id="ORG-X", agencies=["parks", "police"])
    assert not as_clerk.may_see(organisation_id="ORG-X", agencies=["police"])
    assert auditor.principal().read_only and auditor.principal().can_see_all
    assert as_officer.actor == f"officer:{officer.id}"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"role": "applicant"}, "an applicant account needs an organisation"),
        ({"role": "applicant", "organisation": "   "}, "an applicant account needs an organisation"),
        ({"role": "applicant", "organisation": "PT A", "agency": "parks"}, "not to an agency"),
        ({"role": "agency"}, "an agency account needs an agency code; one of: parks, police"),
        ({"role": "agency", "agency": "pajak"}, "unknown agency code 'pajak'; the catalog has: parks, police"),
        ({"role": "agency", "agency": "parks", "organisation": "PT A"}, "only applicant accounts belong"),
        ({"role": "officer", "organisation": "PT A"}, "only applicant accounts belong"),
        ({"role": "auditor", "agency": "parks"}, "only agency accounts name an agency"),
        ({"role": "admin"}, "unknown role 'admin'; choose one of: applicant, officer, agency, auditor"),
        ({"role": "officer", "name": "  "}, "an account needs a name"),
    ],
)
async def test_role_combinations_that_do_not_fit_are_refused_and_create_nothing(pool, fields, message):
    fields = {"name": "Someone", **fields}
    with pytest.raises(ValueError, match=message):
        await create_account(pool, known_agencies={"parks", "police"}, **fields)
    for table in ("accounts", "organisations", "audit_log"):
        assert await _count(pool, table) == 0


async def test_agency_codes_default_to_every_code_the_system_knows(pool):
    account, _ = await create_account(pool, name="MRT desk", role="agency", agency="transit")
    assert account.agency == "transit"
    with pytest.raises(ValueError, match="unknown agency code 'pajak'"):
        await create_account(pool, name="Tax desk", role="agency", agency="pajak")


async def test_the_database_refuses_role_combinations_too(pool):
    insert = """INSERT INTO accounts (id, name, role, organisation_id, agency, token_hash, token_prefix)
                VALUES ($1, 'x', $2, $3, $4, $5, 'jfc_abcd')"""
    await pool.execute("INSERT INTO organisations (id, name) VALUES ('ORG-1', 'PT A')")
    for n, (role, organisation, agency) in enumerate([
        ("applicant", None, None), ("officer", "ORG-1", None), ("agency", None, None),
        ("auditor", None, "parks"), ("admin", None, None),
    ]):
        with pytest.raises(asyncpg.CheckViolationError):
            await pool.execute(insert, f"ACC-{n}", role, organisation, agency, f"{n:064x}")


async def test_create_and_revoke_are_audited_once_each(pool):
    at = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    account, _ = await create_account(pool, name="Parks desk", role="agency", agency="parks", actor="officer:ACC-1",
                                      at=at)
    await revoke(pool, account.id, actor="officer:ACC-1", at=at + dt.timedelta(hours=1))
    await revoke(pool, account.id, actor="officer:ACC-1")  # nothing to revoke: no second row

    rows = await pool.fetch("SELECT at, actor, action, application_id, detail, source_key FROM audit_log ORDER BY seq")
    assert [(r["action"], r["actor"], r["at"]) for r in rows] == [
        ("account_created", "officer:ACC-1", at),
        ("account_revoked", "officer:ACC-1", at + dt.timedelta(hours=1)),
    ]
    assert rows[0]["detail"]["account_id"] == account.id and rows[0]["detail"]["agency"] == "parks"
    assert rows[0]["detail"]["role"] == "agency" and rows[0]["application_id"] is None
    assert rows[1]["detail"] == {"account_id": account.id, "name": "Parks desk", "role": "agency"}
    assert len({r["source_key"] for r in rows}) == 2
    assert (await audit.verify(pool)).ok


async def test_the_default_actor_is_the_cli(pool):
    account, _ = await create_account(pool, name="Dewi", role="officer")
    await revoke(pool, account.id)
    assert [r["actor"] for r in await pool.fetch("SELECT actor FROM audit_log ORDER BY seq")] == ["cli", "cli"]


async def test_last_used_is_written_at_most_once_a_minute(pool):
    account, token = await create_account(pool, name="Dewi", role="officer")
    assert (await list_accounts(pool))[0].last_used_at is None

    await authenticate(pool, token)
    first = (await list_accounts(pool))[0].last_used_at
    assert first is not None
    await authenticate(pool, token)
    assert (await list_accounts(pool))[0].last_used_at == first

    await pool.execute("UPDATE accounts SET last_used_at = last_used_at - interval '2 minutes' WHERE id = $1",
                       account.id)
    await authenticate(pool, token)
    assert (await list_accounts(pool))[0].last_used_at > first - dt.timedelta(minutes=1)


async def test_list_never_shows_a_token(pool):
    _, token = await create_account(pool, name="Dewi", role="officer")
    [listed] = await list_accounts(pool)
    assert token not in listed.model_dump_json()
    assert listed.token_prefix == token[:8]
