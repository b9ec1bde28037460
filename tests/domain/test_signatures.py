"""A rightly signed webhook whose timestamp is out of tolerance says how far off it is, and which way."""

from __future__ import annotations

import pytest

from domain.signatures import SignatureError, sign, verify

SECRET, BODY, NOW = b"parks-secret", b'{"decision_id": "d-1"}', 1_800_000_000


@pytest.mark.parametrize(("signed_at", "said"), [(NOW - 600, "600 s old"), (NOW + 599, "599 s in the future")])
def test_a_timestamp_out_of_tolerance_is_refused_saying_how_far_off_and_which_way(signed_at: int, said: str) -> None:
    with pytest.raises(SignatureError) as refused:
        verify(SECRET, sign(SECRET, BODY, signed_at), BODY, now=NOW)

    assert said in str(refused.value)
    assert "limit 300 s" in str(refused.value)


def test_a_timestamp_within_tolerance_either_way_is_accepted() -> None:
    for signed_at in (NOW - 300, NOW + 300):
        assert verify(SECRET, sign(SECRET, BODY, signed_at), BODY, now=NOW) == signed_at
