"""Identifiers: time-ordered public ids and unguessable secrets."""

from __future__ import annotations

import hashlib
import secrets
import time

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def new_id() -> str:
    """A 26-character ULID-style id: 48 bits of milliseconds then 80 random bits,
    so ids sort by creation time and never collide in practice."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_secret(prefix: str) -> str:
    """A bearer secret such as an API token or invite code (256 bits of entropy)."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def secret_hash(secret: str) -> str:
    """Tokens are high-entropy, so a plain SHA-256 is the right storage hash
    (password hashing is for low-entropy human secrets)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
