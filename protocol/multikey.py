"""Ed25519 keys as Multikey text (FEP-521a, W3C Controlled Identifiers §2.2.2).

A Multikey value is multibase base58btc (prefix ``z``) over a multicodec
varint header and the raw key bytes: ``0xed 0x01`` for an Ed25519 public key,
``0x80 0x26`` for an Ed25519 private key (its 32-byte seed).
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from protocol.errors import KeyFormatError

__all__ = [
    "BASE58BTC_PREFIX",
    "ED25519_PRIV_HEADER",
    "ED25519_PUB_HEADER",
    "base58btc_decode",
    "base58btc_encode",
    "multikey_decode",
    "multikey_encode",
    "private_key_multibase_decode",
    "private_key_multibase_encode",
]

#: Multibase prefix of base58btc.
BASE58BTC_PREFIX = "z"
#: Multicodec ``ed25519-pub`` (0xed) as an unsigned varint.
ED25519_PUB_HEADER = b"\xed\x01"
#: Multicodec ``ed25519-priv`` (0x1300) as an unsigned varint.
ED25519_PRIV_HEADER = b"\x80\x26"
_ED25519_KEY_LENGTH = 32
# 34 bytes encode to at most 47 base58 digits; refusing longer text up front
# keeps hostile input from reaching the quadratic big-integer decoder.
_MAX_KEY_TEXT_LENGTH = 64

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_DIGIT_OF = {char: digit for digit, char in enumerate(_ALPHABET)}


def base58btc_encode(data: bytes) -> str:
    """Encode bytes in the Bitcoin base58 alphabet (no multibase prefix).

    Each leading zero byte becomes a leading ``1``, so the length survives a
    round trip.
    """
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(_ALPHABET[remainder])
    return "1" * zeros + "".join(reversed(digits))


def base58btc_decode(text: str) -> bytes:
    """Decode Bitcoin base58 text (no multibase prefix) into bytes.

    Raises :class:`KeyFormatError` naming the first character outside the
    alphabet.
    """
    number = 0
    for position, char in enumerate(text):
        digit = _DIGIT_OF.get(char)
        if digit is None:
            raise KeyFormatError(f"invalid base58btc character {char!r} at position {position}")
        number = number * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * zeros + body


def multikey_encode(public_key: Ed25519PublicKey) -> str:
    """Return the ``publicKeyMultibase`` text of an Ed25519 public key."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return BASE58BTC_PREFIX + base58btc_encode(ED25519_PUB_HEADER + raw)


def multikey_decode(text: str) -> Ed25519PublicKey:
    """Parse a ``publicKeyMultibase`` value holding an Ed25519 public key.

    Raises :class:`KeyFormatError` for another multibase, another key type,
    or a key of the wrong length.
    """
    raw = _decode_multibase_key(text, ED25519_PUB_HEADER, "ed25519-pub")
    return Ed25519PublicKey.from_public_bytes(raw)


def private_key_multibase_encode(private_key: Ed25519PrivateKey) -> str:
    """Return the ``secretKeyMultibase`` text of an Ed25519 private key."""
    seed = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return BASE58BTC_PREFIX + base58btc_encode(ED25519_PRIV_HEADER + seed)


def private_key_multibase_decode(text: str) -> Ed25519PrivateKey:
    """Parse a ``secretKeyMultibase``/``privateKeyMultibase`` Ed25519 private key.

    Raises :class:`KeyFormatError` like :func:`multikey_decode`.
    """
    seed = _decode_multibase_key(text, ED25519_PRIV_HEADER, "ed25519-priv")
    return Ed25519PrivateKey.from_private_bytes(seed)


def _decode_multibase_key(text: str, header: bytes, codec: str) -> bytes:
    if not isinstance(text, str) or not text:
        raise KeyFormatError("a multibase key must be a non-empty string")
    if text[0] != BASE58BTC_PREFIX:
        raise KeyFormatError(
            f"unsupported multibase prefix {text[0]!r}: only base58btc ('z') is accepted"
        )
    if len(text) > _MAX_KEY_TEXT_LENGTH:
        raise KeyFormatError(f"multibase key text is {len(text)} characters, too long")
    decoded = base58btc_decode(text[1:])
    if not decoded.startswith(header):
        raise KeyFormatError(
            f"multicodec header {decoded[:2].hex()} is not {codec} ({header.hex()})"
        )
    raw = decoded[len(header) :]
    if len(raw) != _ED25519_KEY_LENGTH:
        raise KeyFormatError(
            f"{codec} key is {len(raw)} bytes long, expected {_ED25519_KEY_LENGTH}"
        )
    return raw
