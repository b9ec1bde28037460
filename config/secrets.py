"""Webhook secrets by reference: `JFC_SECRET_<REF>` from the environment, else a dev secret kept in the state folder."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

DEV_SECRETS_FILE = "dev-secrets.json"


def webhook_secret(ref: str, state_dir: Path) -> bytes:
    """The secret named `ref` (e.g. `parks`, `payments`): env first, then the state folder's dev secrets."""
    from_env = os.environ.get(f"JFC_SECRET_{ref.upper()}")
    if from_env:
        return from_env.encode()
    return _dev_secret(ref, state_dir).encode()


def _dev_secret(ref: str, state_dir: Path) -> str:
    path = state_dir / DEV_SECRETS_FILE
    state_dir.mkdir(parents=True, exist_ok=True)
    known = _read(path)
    if ref in known:
        return known[ref]
    # Create under an exclusive lock file so two processes starting together agree on one secret.
    lock = path.with_suffix(".lock")
    import fcntl

    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        known = _read(path)
        if ref not in known:
            known[ref] = secrets.token_hex(32)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(known, indent=2))
            os.chmod(tmp, 0o600)
            tmp.replace(path)
        return known[ref]


def _read(path: Path) -> dict[str, str]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
