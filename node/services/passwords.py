"""Password hashing with argon2id (argon2-cffi), the current OWASP recommendation."""

from __future__ import annotations

import asyncio
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """Verifying against this when the account does not exist keeps timing
    uniform, so login responses do not reveal which usernames exist. Hashed on
    first use, not at import: every `kula` command imports this module, and an
    argon2 hash is a noticeable part of a start-up."""
    return hasher.hash("kula-timing-equaliser")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def check() -> bool:
        try:
            checked = password_hash or _dummy_hash(_hasher)
            return _hasher.verify(checked, password) and bool(password_hash)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)
