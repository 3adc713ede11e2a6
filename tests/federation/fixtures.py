"""Fixtures shared by the federation tests that start real processes (loaded as
a plugin by tests/conftest.py: a second conftest.py would shadow the first
for the tests that import from it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest


@pytest.fixture
async def cleanup() -> AsyncIterator[AsyncExitStack]:
    """Whatever a test starts it registers here, so a failure kills it too."""
    async with AsyncExitStack() as stack:
        yield stack
