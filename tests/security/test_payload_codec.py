"""The payload codec: AES-GCM per payload, the key named in each payload, keys that rotate."""

from __future__ import annotations

import base64
import os

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter

from config.secrets import CodecKey, codec_keys, parse_codec_keys
from config.settings import Settings
from schemas.application import ForeignCrewMember
from workers.codec import ENCODING, KEY_ID, EncryptionCodec, PayloadDecryptionError, codec_for
from workers.temporal import data_converter

OLD = CodecKey("2026-01", os.urandom(32))
NEW = CodecKey("2026-07", os.urandom(32))


def payload(text: str = '{"passport_number": "M1234567"}') -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=text.encode())


async def test_round_trip_hides_the_data_and_names_the_key() -> None:
    codec = EncryptionCodec([NEW])
    original = payload()
    [sealed] = await codec.encode([original])
    assert sealed.metadata["encoding"] == ENCODING and sealed.metadata[KEY_ID] == b"2026-07"
    assert b"M1234567" not in sealed.SerializeToString() and b"json/plain" not in sealed.SerializeToString()
    [opened] = await codec.decode([sealed])
    assert opened == original
    [again] = await codec.encode([original])
    assert again.data != sealed.data  # a fresh nonce every time


async def test_the_data_converter_keeps_pydantic_and_encrypts() -> None:
    converter = data_converter(EncryptionCodec([NEW]))
    crew = ForeignCrewMember(name="Kim", nationality="KR", passport_number="M1234567", role="director")
    [sealed] = await converter.encode([crew])
    assert sealed.metadata["encoding"] == ENCODING and b"M1234567" not in sealed.data
    assert await converter.decode([sealed], [ForeignCrewMember]) == [crew]
    assert converter.payload_converter_class is pydantic_data_converter.payload_converter_class


async def test_rotation_new_key_encrypts_old_key_still_decrypts() -> None:
    [from_before] = await EncryptionCodec([OLD]).encode([payload("before")])
    rotated = EncryptionCodec([NEW, OLD])
    assert rotated.key_id == "2026-07"
    [opened] = await rotated.decode([from_before])
    assert opened.data == b"before"
    [from_now] = await rotated.encode([payload("now")])
    assert from_now.metadata[KEY_ID] == b"2026-07"
    with pytest.raises(PayloadDecryptionError, match="'2026-07'"):  # the old key alone cannot read the new
        await EncryptionCodec([OLD]).decode([from_now])


async def test_tampered_ciphertext_is_refused() -> None:
    codec = EncryptionCodec([NEW])
    [sealed] = await codec.encode([payload()])
    flipped = bytearray(sealed.data)
    flipped[-1] ^= 1
    tampered = Payload(metadata=dict(sealed.metadata), data=bytes(flipped))
    with pytest.raises(PayloadDecryptionError, match="'2026-07' failed authentication"):
        await codec.decode([tampered])
    # the key id is bound to the ciphertext: relabelling a payload with another known key fails too
    relabelled = Payload(metadata={**sealed.metadata, KEY_ID: b"2026-01"}, data=sealed.data)
    with pytest.raises(PayloadDecryptionError, match="failed authentication"):
        await EncryptionCodec([NEW, CodecKey("2026-01", NEW.key)]).decode([relabelled])


async def test_an_unknown_key_id_is_named() -> None:
    [sealed] = await EncryptionCodec([CodecKey("retired-2025", os.urandom(32))]).encode([payload()])
    with pytest.raises(PayloadDecryptionError, match=r"key 'retired-2025'.*does not know.*2026-07, 2026-01"):
        await EncryptionCodec([NEW, OLD]).decode([sealed])


async def test_payloads_from_before_encryption_still_read() -> None:
    plain = payload()
    assert await EncryptionCodec([NEW]).decode([plain]) == [plain]


def test_keys_from_settings_first_encrypts_and_bad_entries_are_named(tmp_path) -> None:
    spec = ",".join(f"{k.id}:{base64.b64encode(k.key).decode()}" for k in (NEW, OLD))
    settings = Settings(state_dir=tmp_path, codec_keys=spec)
    assert codec_keys(settings) == [NEW, OLD]
    assert codec_for(settings).key_id == "2026-07"
    assert not (tmp_path / "codec-keys").exists()  # configured keys: nothing generated
    short = base64.b64encode(b"x" * 16).decode()
    for bad, named in [("nokey", "entry 1"), (f"a:{short}", "'a' is 16 bytes"), ("a:%%%", "'a' is not base64"),
                       (f"{spec},2026-07:{base64.b64encode(NEW.key).decode()}", "'2026-07' is given more than once")]:
        with pytest.raises(ValueError, match=named) as err:
            parse_codec_keys(bad, "JFC_CODEC_KEYS")
        assert "JFC_CODEC_KEYS" in str(err.value) and base64.b64encode(NEW.key).decode() not in str(err.value)
    assert "2026-07" in repr(NEW) and base64.b64encode(NEW.key).decode() not in repr(NEW)


def test_local_keys_are_generated_once_into_the_state_folder(tmp_path) -> None:
    settings = Settings(state_dir=tmp_path)
    first = codec_keys(settings)
    assert len(first) == 1 and len(first[0].key) == 32
    assert codec_keys(Settings(state_dir=tmp_path)) == first  # the next process reads the same key
    assert (tmp_path / "codec-keys").stat().st_mode & 0o777 == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name != "codec-keys"]  # no temporary file left behind
