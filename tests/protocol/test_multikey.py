"""Multikey (FEP-521a) and base58btc encoding of Ed25519 keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.errors import KeyFormatError
from protocol.multikey import (
    ED25519_PRIV_HEADER,
    ED25519_PUB_HEADER,
    base58btc_decode,
    base58btc_encode,
    multikey_decode,
    multikey_encode,
    private_key_multibase_decode,
    private_key_multibase_encode,
)

VECTORS = Path(__file__).parents[1] / "vectors"
KEY_PAIR = json.loads((VECTORS / "vc_di_eddsa_jcs_2022.json").read_text())["keyPair"]
FEP_8B32 = json.loads((VECTORS / "fep_8b32.json").read_text())["vectors"]["current"]


def _raw(public_key: object) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)  # type: ignore[attr-defined]


# Examples from draft-msporny-base58 §5.
@pytest.mark.spec("draft-msporny-base58 §5")
@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"Hello World!", "2NEpo7TZRRrLZSi2U"),
        (
            b"The quick brown fox jumps over the lazy dog.",
            "USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z",
        ),
        (bytes.fromhex("0000287fb4cd"), "11233QC4"),
        (b"", ""),
        (b"\0", "1"),
        (b"\0\0\0", "111"),
        (b"\x39", "z"),
        (b"\x3a", "21"),
    ],
)
def test_base58btc_known_answers(data: bytes, text: str) -> None:
    assert base58btc_encode(data) == text
    assert base58btc_decode(text) == data


@pytest.mark.spec("draft-msporny-base58 §3")
@settings(database=None, max_examples=300)
@given(st.integers(min_value=0, max_value=4), st.binary(max_size=80))
def test_base58btc_round_trip_keeps_leading_zero_bytes(zeros: int, data: bytes) -> None:
    payload = b"\0" * zeros + data
    encoded = base58btc_encode(payload)
    assert set(encoded) <= set("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")
    assert base58btc_decode(encoded) == payload


@pytest.mark.spec("draft-msporny-base58 §3")
@pytest.mark.parametrize(("text", "position"), [("0abc", 0), ("abO", 2), ("I", 0), ("12l", 2)])
def test_base58btc_rejects_characters_outside_the_alphabet(text: str, position: int) -> None:
    with pytest.raises(KeyFormatError, match=f"at position {position}"):
        base58btc_decode(text)


@pytest.mark.spec("vc-di-eddsa §2.1.1")
def test_vector_key_pair_decodes_to_matching_keys() -> None:
    private_key = private_key_multibase_decode(KEY_PAIR["privateKeyMultibase"])
    public_key = multikey_decode(KEY_PAIR["publicKeyMultibase"])
    assert _raw(private_key.public_key()) == _raw(public_key)
    assert multikey_encode(public_key) == KEY_PAIR["publicKeyMultibase"]
    assert private_key_multibase_encode(private_key) == KEY_PAIR["privateKeyMultibase"]


@pytest.mark.spec("FEP-521a §2")
def test_fep_8b32_actor_key_is_the_secret_keys_public_half() -> None:
    private_key = private_key_multibase_decode(FEP_8B32["secret_key_multibase"])
    (entry,) = FEP_8B32["actor"]["assertionMethod"]
    assert multikey_encode(private_key.public_key()) == entry["publicKeyMultibase"]


@pytest.mark.spec("FEP-521a §2")
def test_multikey_layout_is_prefix_header_and_raw_key() -> None:
    public_key = Ed25519PrivateKey.generate().public_key()
    text = multikey_encode(public_key)
    assert text.startswith("z6Mk")
    assert base58btc_decode(text[1:]) == ED25519_PUB_HEADER + _raw(public_key)
    assert _raw(multikey_decode(text)) == _raw(public_key)


@pytest.mark.spec("vc-di-eddsa §2.1.1")
def test_private_key_round_trip() -> None:
    private_key = Ed25519PrivateKey.generate()
    text = private_key_multibase_encode(private_key)
    assert base58btc_decode(text[1:]).startswith(ED25519_PRIV_HEADER)
    decoded = private_key_multibase_decode(text)
    assert _raw(decoded.public_key()) == _raw(private_key.public_key())


def _multibase(payload: bytes) -> str:
    return "z" + base58btc_encode(payload)


@pytest.mark.spec("FEP-521a §2")
@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "non-empty string"),
        ("u7QHr", "unsupported multibase prefix 'u'"),
        ("f" + "ed01" + "00" * 32, "unsupported multibase prefix 'f'"),
        (_multibase(ED25519_PRIV_HEADER + bytes(32)), "is not ed25519-pub"),
        (_multibase(b"\x12\x00" + bytes(32)), "is not ed25519-pub"),
        (_multibase(ED25519_PUB_HEADER + bytes(31)), "31 bytes long, expected 32"),
        (_multibase(ED25519_PUB_HEADER + bytes(33)), "33 bytes long, expected 32"),
        ("z" + "2" * 500, "too long"),
        ("z6Mk0", "invalid base58btc character '0'"),
    ],
)
def test_malformed_public_multikeys_are_rejected(text: str, reason: str) -> None:
    with pytest.raises(KeyFormatError, match=reason):
        multikey_decode(text)


@pytest.mark.spec("vc-di-eddsa §2.1.1")
def test_public_key_text_is_not_accepted_as_a_private_key() -> None:
    with pytest.raises(KeyFormatError, match="is not ed25519-priv"):
        private_key_multibase_decode(KEY_PAIR["publicKeyMultibase"])


@pytest.mark.spec("FEP-521a §2")
def test_non_string_is_rejected() -> None:
    with pytest.raises(KeyFormatError, match="non-empty string"):
        multikey_decode(None)  # type: ignore[arg-type]
