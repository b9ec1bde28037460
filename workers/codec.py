"""Payload encryption for Temporal: every payload sealed with AES-GCM, the key that sealed it named in its metadata.

Histories then hold ciphertext only (passport numbers, emails and phones included), readable by the
processes that hold the keys and by an officer's Temporal UI through the API's codec endpoint
(`api/codec.py`). Keys rotate: the first key encrypts, every listed key decrypts, so an old key stays
listed until no open workflow still needs it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from config.secrets import CodecKey, codec_keys
from config.settings import Settings

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"  # metadata naming the key a payload was sealed with
NONCE_BYTES = 12


class PayloadDecryptionError(ValueError):
    """An encrypted payload this process cannot open: unknown key id, or altered on the way."""


class EncryptionCodec(PayloadCodec):
    """AES-GCM over the whole serialized payload (metadata and data); the key id is bound as associated data."""

    def __init__(self, keys: Sequence[CodecKey]) -> None:
        if not keys:
            raise ValueError("the payload codec needs at least one key")
        ids = [key.id for key in keys]
        if twice := sorted({key_id for key_id in ids if ids.count(key_id) > 1}):
            raise ValueError(f"codec key ids must be unique; given more than once: {', '.join(twice)}")
        self._encrypting = keys[0].id
        self._ciphers = {key.id: AESGCM(key.key) for key in keys}

    @property
    def key_id(self) -> str:
        """The id of the key new payloads are encrypted with."""
        return self._encrypting

    @property
    def key_ids(self) -> list[str]:
        """Every key id this codec decrypts."""
        return list(self._ciphers)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        key_id = self._encrypting.encode()
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self._encrypting].encrypt(nonce, payload.SerializeToString(), key_id)
        return Payload(metadata={"encoding": ENCODING, KEY_ID: key_id}, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # written before encryption was turned on: open workflows carry on
        raw_id = payload.metadata.get(KEY_ID)
        if raw_id is None:
            raise PayloadDecryptionError(f"an encrypted payload carries no {KEY_ID!r} metadata; it cannot be opened")
        key_id = raw_id.decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadDecryptionError(
                f"payload encrypted with key {key_id!r}, which this process does not know "
                f"(it knows {', '.join(self._ciphers)}); add that key to JFC_CODEC_KEYS after the one that encrypts"
            )
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            return Payload.FromString(cipher.decrypt(nonce, sealed, raw_id))
        except InvalidTag:
            raise PayloadDecryptionError(
                f"payload encrypted with key {key_id!r} failed authentication: it was altered, "
                "or sealed with a different key under that id"
            ) from None
        except DecodeError as err:  # authentic, yet not a payload: sealed by something else with our key
            raise PayloadDecryptionError(f"payload encrypted with key {key_id!r} holds no payload: {err}") from None


def codec_for(settings: Settings) -> EncryptionCodec:
    """The codec of this deployment: keys from `JFC_CODEC_KEYS`, or the local stack's generated key."""
    return EncryptionCodec(codec_keys(settings))
