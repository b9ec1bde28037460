"""Accounts and roles: who calls the API, for which organisation or agency, with which bearer token.

A token is shown once, when its account is created; the database keeps only its sha256.
Creating and revoking an account are written to the audit log in the same transaction.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import secrets
import tempfile
from collections.abc import Iterable, Mapping
from enum import StrEnum
from pathlib import Path

import asyncpg
from pydantic import BaseModel, ConfigDict

from schemas.catalog import AgencyCode
from store import audit

TOKEN_PREFIX = "jfc_"
TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 128  # longer is not one of ours: refused without asking the database
LISTED_PREFIX_LENGTH = 8  # characters of the token kept for `jfc accounts list`
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)  # last_used_at is written at most this often

DEMO_ORGANISATIONS = {"applicant": "PT Contoh Film", "applicant_b": "PT Lain Sinema"}


class Role(StrEnum):
    applicant = "applicant"  # a production company: sees and changes only its organisation's applications
    officer = "officer"  # a commission officer: sees everything, decides
    agency = "agency"  # an agency clerk: sees only the requests sent to their agency
    auditor = "auditor"  # reads everything, changes nothing


class Principal(BaseModel):
    """The caller of a request, as its bearer token says."""

    model_config = ConfigDict(frozen=True)

    account_id: str
    name: str
    role: Role
    organisation_id: str | None = None
    agency: str | None = None

    @property
    def is_applicant(self) -> bool:
        return self.role is Role.applicant

    @property
    def is_officer(self) -> bool:
        return self.role is Role.officer

    @property
    def is_agency(self) -> bool:
        return self.role is Role.agency

    @property
    def can_see_all(self) -> bool:
        """Officers and auditors see every application; applicants and agencies only their own part."""
        return self.role in (Role.officer, Role.auditor)

    @property
    def read_only(self) -> bool:
        """Auditors may look at everything and change nothing."""
        return self.role is Role.auditor

    @property
    def actor(self) -> str:
        """Who did it, for the audit log: `<role>:<account id>`."""
        return f"{self.role}:{self.account_id}"

    def may_see(self, *, organisation_id: str | None, agencies: Iterable[str] = ()) -> bool:
        """Whether this caller may see an application of `organisation_id` routed to `agencies`."""
        if self.can_see_all:
            return True
        if self.is_applicant:
            return organisation_id is not None and organisation_id == self.organisation_id
        return self.agency is not None and self.agency in set(agencies)


class Account(BaseModel):
    """An account as listed: never its token, only the token's first characters."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    role: Role
    organisation_id: str | None = None
    organisation: str | None = None  # the organisation's name
    agency: str | None = None
    token_prefix: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None
    last_used_at: dt.datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def principal(self) -> Principal:
        return Principal(
            account_id=self.id, name=self.name, role=self.role,
            organisation_id=self.organisation_id, agency=self.agency,
        )


# ---- tokens -------------------------------------------------------------------------


def new_token() -> str:
    """A fresh bearer token: `jfc_` and 32 random bytes, URL-safe."""
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """What the database keeps of a token: its sha256, hex.

    A plain, unsalted hash is the right tool here: tokens are 256 random bits, not
    passwords, so no dictionary or brute force can invert the hash, and a deterministic
    hash lets `authenticate` find the account with one indexed lookup. (Slow password
    hashes such as bcrypt or argon2 exist to protect low-entropy secrets.)
    """
    return hashlib.sha256(token.encode()).hexdigest()


def _looks_like_token(token: str) -> bool:
    return token.startswith(TOKEN_PREFIX) and len(TOKEN_PREFIX) < len(token) <= MAX_TOKEN_LENGTH


def _new_id(prefix: str) -> str:
    return prefix + base64.b32encode(secrets.token_bytes(5)).decode()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _clean(text: str | None) -> str | None:
    """Whitespace collapsed; None when nothing is left."""
    if text is None:
        return None
    return " ".join(text.split()) or None


# ---- accounts -----------------------------------------------------------------------

_ACCOUNT_COLUMNS = """
    a.id, a.name, a.role, a.organisation_id, o.name AS organisation, a.agency, a.token_prefix,
    a.created_at, a.revoked_at, a.last_used_at
"""


def _account(row: Mapping) -> Account:
    return Account(**{key: row[key] for key in Account.model_fields})


def _validated(
    name: str, role: str, organisation: str | None, agency: str | None, known_agencies: Iterable[str] | None
) -> tuple[str, Role, str | None, str | None]:
    """The cleaned fields of a new account, or ValueError saying what is wrong and what to do."""
    clean_name = _clean(name)
    if not clean_name:
        raise ValueError("an account needs a name (the person or desk it is for)")
    try:
        the_role = Role(role)
    except ValueError:
        raise ValueError(f"unknown role {role!r}; choose one of: {', '.join(Role)}") from None
    organisation, agency = _clean(organisation), _clean(agency)
    if the_role is Role.applicant:
        if not organisation:
            raise ValueError("an applicant account needs an organisation (the production company's name)")
        if agency:
            raise ValueError("an applicant account belongs to an organisation, not to an agency; drop the agency")
    elif organisation:
        raise ValueError(f"only applicant accounts belong to an organisation; a {the_role} account has none")
    if the_role is Role.agency:
        known = sorted(set(known_agencies if known_agencies is not None else (str(c) for c in AgencyCode)))
        if not agency:
            raise ValueError(f"an agency account needs an agency code; one of: {', '.join(known)}")
        if agency not in known:
            raise ValueError(f"unknown agency code {agency!r}; the catalog has: {', '.join(known)}")
    elif agency:
        raise ValueError(f"only agency accounts name an agency; a {the_role} account has none")
    return clean_name, the_role, organisation, agency


async def _organisation_id(conn: asyncpg.Connection, name: str, at: dt.datetime) -> tuple[str, str, bool]:
    """The id and stored name of the organisation called `name` (any letter case), created if missing."""
    created = await conn.fetchval(
        """INSERT INTO organisations (id, name, created_at) VALUES ($1, $2, $3)
           ON CONFLICT ((lower(name))) DO NOTHING RETURNING id""",
        _new_id("ORG-"), name, at,
    )
    row = await conn.fetchrow("SELECT id, name FROM organisations WHERE lower(name) = lower($1)", name)
    return row["id"], row["name"], created is not None


async def create_account(
    pool: asyncpg.Pool,
    *,
    name: str,
    role: Role | str,
    organisation: str | None = None,
    agency: str | None = None,
    known_agencies: Iterable[str] | None = None,
    actor: str = "cli",
    at: dt.datetime | None = None,
) -> tuple[Account, str]:
    """Create an account and return it with its token, the only time the token is ever seen.

    `organisation` is an organisation's name (applicants only; created if missing);
    `agency` is an agency code (agency role only), checked against `known_agencies`
    (default: every agency code the system knows). Invalid combinations raise ValueError
    and create nothing.
    """
    clean_name, the_role, organisation, agency = _validated(name, str(role), organisation, agency, known_agencies)
    at = at or _now()
    token = new_token()
    account_id = _new_id("ACC-")
    async with pool.acquire() as conn, conn.transaction():
        organisation_id = organisation_name = None
        organisation_created = False
        if organisation:
            organisation_id, organisation_name, organisation_created = await _organisation_id(conn, organisation, at)
        await conn.execute(
            """INSERT INTO accounts (id, name, role, organisation_id, agency, token_hash, token_prefix, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
            account_id, clean_name, str(the_role), organisation_id, agency,
            token_hash(token), token[:LISTED_PREFIX_LENGTH], at,
        )
        await audit.append(
            conn, at=at, actor=actor, action="account_created", application_id=None,
            detail={
                "account_id": account_id, "name": clean_name, "role": str(the_role),
                "organisation_id": organisation_id, "organisation": organisation_name,
                "organisation_created": organisation_created, "agency": agency,
                "token_prefix": token[:LISTED_PREFIX_LENGTH],
            },
            source_key=f"account_created:{account_id}",
        )
        row = await conn.fetchrow(
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts a LEFT JOIN organisations o ON o.id = a.organisation_id"
            " WHERE a.id = $1",
            account_id,
        )
    return _account(row), token


async def list_accounts(pool: asyncpg.Pool) -> list[Account]:
    """Every account, oldest first, revoked ones included (never a token or its hash)."""
    rows = await pool.fetch(
        f"SELECT {_ACCOUNT_COLUMNS} FROM accounts a LEFT JOIN organisations o ON o.id = a.organisation_id"
        " ORDER BY a.created_at, a.id"
    )
    return [_account(row) for row in rows]


async def revoke(pool: asyncpg.Pool, account_id: str, *, actor: str = "cli", at: dt.datetime | None = None) -> bool:
    """Revoke an account's token for good; False when there is no such account or it was already revoked."""
    at = at or _now()
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            "UPDATE accounts SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING name, role",
            account_id.strip(), at,
        )
        if row is None:
            return False
        await audit.append(
            conn, at=at, actor=actor, action="account_revoked", application_id=None,
            detail={"account_id": account_id.strip(), "name": row["name"], "role": row["role"]},
            source_key=f"account_revoked:{account_id.strip()}",
        )
    return True


async def authenticate(pool: asyncpg.Pool, token: str) -> Principal | None:
    """The principal a bearer token stands for; None when it is unknown, malformed or revoked.

    Marks the account used (`last_used_at`) at most once a minute, not on every request.
    """
    if not _looks_like_token(token):
        return None
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            f"""SELECT {_ACCOUNT_COLUMNS},
                       (a.last_used_at IS NULL OR a.last_used_at < now() - $2::interval) AS stale_use
                FROM accounts a LEFT JOIN organisations o ON o.id = a.organisation_id
                WHERE a.token_hash = $1""",
            token_hash(token), LAST_USED_RESOLUTION,
        )
        if row is None or row["revoked_at"] is not None:
            return None
        if row["stale_use"]:
            await conn.execute(
                """UPDATE accounts SET last_used_at = now()
                   WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - $2::interval)""",
                row["id"], LAST_USED_RESOLUTION,
            )
    return _account(row).principal()


async def _active_account(pool: asyncpg.Pool, token: object) -> Account | None:
    """The active account of `token`, without marking it used."""
    if not isinstance(token, str) or not _looks_like_token(token):
        return None
    row = await pool.fetchrow(
        f"SELECT {_ACCOUNT_COLUMNS} FROM accounts a LEFT JOIN organisations o ON o.id = a.organisation_id"
        " WHERE a.token_hash = $1 AND a.revoked_at IS NULL",
        token_hash(token),
    )
    return _account(row) if row else None


# ---- demo accounts ------------------------------------------------------------------


def demo_keys(agencies: Iterable[str]) -> list[str]:
    """The keys of the demo tokens file, in order."""
    return ["applicant", "applicant_b", "officer", "auditor", *(f"agency:{code}" for code in agencies)]


def _demo_spec(key: str) -> dict[str, str | None]:
    if key in DEMO_ORGANISATIONS:
        organisation = DEMO_ORGANISATIONS[key]
        return {"name": f"Demo applicant ({organisation})", "role": Role.applicant, "organisation": organisation}
    if key.startswith("agency:"):
        code = key.removeprefix("agency:")
        return {"name": f"Demo agency clerk ({code})", "role": Role.agency, "agency": code}
    return {"name": f"Demo {key}", "role": Role(key)}


def _fits(account: Account | None, spec: Mapping[str, str | None]) -> bool:
    if account is None or account.role != spec["role"] or account.agency != spec.get("agency"):
        return False
    wanted = spec.get("organisation")
    return (account.organisation or "").lower() == (wanted or "").lower()


def _read_tokens(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


def write_private_json(path: Path, data: Mapping[str, str]) -> None:
    """Write `data` to `path` readable by its owner only (0600): a temporary file, then an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


async def ensure_demo_accounts(
    pool: asyncpg.Pool, tokens_file: Path, agencies: Iterable[str], *, actor: str = "cli"
) -> dict[str, str]:
    """One demo account per role (two applicant organisations, one clerk per agency), their tokens in `tokens_file`.

    Idempotent: when every token of the file still authenticates as what its key says, the
    file is returned unchanged. Otherwise the accounts whose token is missing, revoked or
    unknown (a new database) are created again and the file is rewritten (mode 0600); the
    tokens that still work are kept, so nobody's saved token breaks needlessly. Demo
    accounts the file no longer lists (an agency left the catalog) are revoked.
    """
    codes = list(dict.fromkeys(agencies))
    keys = demo_keys(codes)
    existing = _read_tokens(tokens_file)
    tokens: dict[str, str] = {}
    for key in keys:
        if _fits(await _active_account(pool, existing.get(key)), _demo_spec(key)):
            tokens[key] = existing[key]
    if len(tokens) == len(keys) and set(existing) == set(keys):
        if tokens_file.stat().st_mode & 0o077:
            tokens_file.chmod(0o600)
        return existing
    for key in keys:
        if key not in tokens:
            _, tokens[key] = await create_account(pool, known_agencies=codes, actor=actor, **_demo_spec(key))
    for key in set(existing) - set(keys):
        if stale := await _active_account(pool, existing[key]):
            await revoke(pool, stale.id, actor=actor)
    write_private_json(tokens_file, tokens)
    return tokens
