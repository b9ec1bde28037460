"""Secrets: webhook secrets by reference (`JFC_SECRET_<REF>`) and the payload codec's keys (`JFC_CODEC_KEYS`).

Both come from the environment (in production, from the secret store). Locally (`JFC_ENV=local`, the
default) a missing one is generated once into the state folder, in files readable by their owner only
from the moment they exist (created with mode 0600, never widened then narrowed). With
`JFC_ENV=production` a missing one is a `MissingSecretError` naming the variable to set.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from config.errors import ConfigurationError, SettingsError

if TYPE_CHECKING:
    from config.settings import Settings

DEV_SECRETS_FILE = "dev-secrets.json"
CODEC_KEYS_FILE = "codec-keys"
CODEC_KEYS_VARIABLE = "JFC_CODEC_KEYS"
ENV_VARIABLE = "JFC_ENV"
ENVIRONMENTS = ("local", "production")
PAYMENTS_SECRET_REF = "payments"  # the payment provider's webhooks (api.webhooks checks them)
PRIVATE = 0o600
CODEC_KEY_BYTES = 32  # AES-256
_KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class MissingSecretError(ConfigurationError, RuntimeError):
    """A secret production must be given is not set; `variables` names what to set."""

    def __init__(self, variables: Iterable[str], detail: str) -> None:
        self.variables = sorted(set(variables))
        super().__init__(f"{', '.join(self.variables)} not set: {detail}")


class CodecKeyError(ConfigurationError, ValueError):
    """The payload codec's keys are malformed; the message names where they came from and the entry, never a key."""


class CodecKey(NamedTuple):
    """One payload encryption key and the id payloads sealed with it carry."""

    id: str
    key: bytes

    def __repr__(self) -> str:  # never print key material
        return f"CodecKey(id={self.id!r})"


def secret_variable(ref: str) -> str:
    """The environment variable holding the secret `ref`: `parks` → `JFC_SECRET_PARKS`."""
    return f"JFC_SECRET_{ref.upper()}"


def environment(env: str | None = None) -> str:
    """`local` or `production`: `env` when given, else `JFC_ENV` (default `local`)."""
    value = env if env is not None else (os.environ.get(ENV_VARIABLE) or "local")
    if value not in ENVIRONMENTS:
        raise SettingsError(f"{ENV_VARIABLE}={value!r} is not one of {', '.join(ENVIRONMENTS)}")
    return value


def webhook_secret(ref: str, state_dir: Path, *, env: str | None = None) -> bytes:
    """The secret named `ref` (e.g. `parks`, `payments`): env first; locally, else the state folder's dev secrets."""
    variable = secret_variable(ref)
    from_env = os.environ.get(variable)
    if from_env:
        return from_env.encode()
    if environment(env) == "production":
        raise MissingSecretError(
            [variable], f"{ENV_VARIABLE}=production takes every secret from the environment (the secret store); "
            f"set {variable} to the secret shared with `{ref}`"
        )
    return _dev_secret(ref, state_dir).encode()


def require_secrets(refs: Iterable[str], *, env: str | None = None) -> None:
    """In production, refuse to start unless every `JFC_SECRET_<REF>` of `refs` is set (all missing ones named)."""
    if environment(env) != "production":
        return
    missing = [secret_variable(ref) for ref in dict.fromkeys(refs) if not os.environ.get(secret_variable(ref))]
    if missing:
        raise MissingSecretError(
            missing, f"{ENV_VARIABLE}=production takes every webhook secret from the environment (the secret store)"
        )


def webhook_secret_refs(agency_refs: Iterable[str], audit_ref: str) -> list[str]:
    """The secrets the API checks webhooks with: each agency's, the payment provider's and the audit firm's."""
    return list(dict.fromkeys([*agency_refs, PAYMENTS_SECRET_REF, audit_ref]))


def codec_keys(settings: Settings) -> list[CodecKey]:
    """The payload codec's keys, the encrypting one first: `JFC_CODEC_KEYS`, else (locally) the state folder's."""
    spec = settings.codec_keys.get_secret_value().strip() if settings.codec_keys else ""
    if spec:
        return parse_codec_keys(spec, CODEC_KEYS_VARIABLE)
    if environment(settings.env) == "production":
        raise MissingSecretError(
            [CODEC_KEYS_VARIABLE], f"{ENV_VARIABLE}=production takes the payload encryption keys from the "
            "environment (the secret store): `id:base64key`, comma-separated, the encrypting key first"
        )
    path = settings.state_dir / CODEC_KEYS_FILE
    return parse_codec_keys(_local_codec_keys(path), str(path))


def parse_codec_keys(spec: str, source: str) -> list[CodecKey]:
    """`id1:base64key,id2:base64key` (commas or newlines) → keys in that order.

    Errors name `source` and the entry, never the key itself.
    """
    keys: list[CodecKey] = []
    for n, entry in enumerate((part for part in re.split(r"[,\s]+", spec) if part), start=1):
        key_id, colon, encoded = entry.partition(":")
        if not colon or not _KEY_ID.match(key_id):
            raise CodecKeyError(f"{source}: entry {n} is not `id:base64key` with an id of letters, digits, `.`, `_`, "
                                "`-`")
        try:
            key = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise CodecKeyError(f"{source}: the key of {key_id!r} is not base64") from None
        if len(key) != CODEC_KEY_BYTES:
            raise CodecKeyError(f"{source}: the key of {key_id!r} is {len(key)} bytes; AES-256 needs {CODEC_KEY_BYTES}")
        if any(known.id == key_id for known in keys):
            raise CodecKeyError(f"{source}: key id {key_id!r} is given more than once")
        keys.append(CodecKey(key_id, key))
    if not keys:
        raise CodecKeyError(f"{source}: no key in it")
    return keys


def new_codec_key_entry() -> str:
    """A fresh `id:base64key` entry (32 random bytes), as `JFC_CODEC_KEYS` takes it."""
    return f"k{secrets.token_hex(4)}:{base64.b64encode(os.urandom(CODEC_KEY_BYTES)).decode()}"


def _local_codec_keys(path: Path) -> str:
    """The local stack's key file, created once (0600) with one fresh key; processes starting together agree."""
    try:
        return path.read_text()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    _write_private(temporary, new_codec_key_entry() + "\n")
    try:
        os.link(temporary, path)  # atomic, and never replaces a key file another process made first
    except FileExistsError:
        pass
    finally:
        temporary.unlink(missing_ok=True)
    return path.read_text()


def _dev_secret(ref: str, state_dir: Path) -> str:
    path = state_dir / DEV_SECRETS_FILE
    state_dir.mkdir(parents=True, exist_ok=True)
    known = _read(path)
    if ref in known:
        return known[ref]
    # Create under an exclusive lock file so two processes starting together agree on one secret.
    lock = path.with_suffix(".lock")
    with os.fdopen(os.open(lock, os.O_RDWR | os.O_CREAT, PRIVATE), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        known = _read(path)
        if ref not in known:
            known[ref] = secrets.token_hex(32)
            tmp = path.with_suffix(".tmp")
            tmp.unlink(missing_ok=True)  # a leftover of a crash: create ours afresh, 0600 from the start
            _write_private(tmp, json.dumps(known, indent=2))
            tmp.replace(path)
        return known[ref]


def _write_private(path: Path, text: str) -> None:
    """Create `path` (it must not exist) readable by its owner only from its first byte, whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _read(path: Path) -> dict[str, str]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
