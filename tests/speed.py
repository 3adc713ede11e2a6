"""Keeping the suite fast without faking anything (a plugin of tests/conftest.py).

Every node and member needs an RSA-2048 key pair (about 65 ms to generate)
and every password an argon2id hash (about 60 ms at OWASP's cost). Tests
create thousands of both, so here:

- key pairs come from a pool generated once per session; within one test
  every actor still gets a distinct, real key pair (the pool restarts at
  each test, and grows when a test needs more);
- passwords are hashed with argon2's cheapest parameters. The hashes are
  real argon2id hashes that verify as usual; only the work factor differs.

Subprocess nodes (tests/federation/procs.py) run the production code as is.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher, profiles

from node import bootstrap, keys
from node.keys import KeyPairPems
from node.services import accounts, passwords

_pool: list[KeyPairPems] = []


class _KeyPairs:
    def __init__(self) -> None:
        self.handed_out = 0

    def __call__(self) -> KeyPairPems:
        if self.handed_out == len(_pool):
            _pool.append(keys.generate_key_pems())
        pair = _pool[self.handed_out]
        self.handed_out += 1
        return pair


@pytest.fixture(autouse=True)
def pooled_key_pairs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    source = _KeyPairs()
    monkeypatch.setattr(accounts, "generate_key_pems", source)
    monkeypatch.setattr(bootstrap, "generate_key_pems", source)
    yield


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))
