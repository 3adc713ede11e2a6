"""The host policy memory the inbox screens with: one read serves many
requests, this process's own changes apply at once, another process's within
POLICY_MEMORY_TTL, and the authoritative batch check sees every change."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from functools import partial
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.federation import policy
from node.federation.policy import (
    PolicyMemory,
    host_screened,
    policy_memory_for,
    refused_among,
)
from node.services import federation_admin
from node.services.context import NodeContext
from node.storage import create_storage
from node.storage.records import ARRIVAL_REFUSED, ArrivingActivity, HostPolicy

NOW = "2026-01-01T00:00:00Z"


async def stored_as_the_inbox_stores(ctx: NodeContext, hosts: list[str]) -> dict[str, bool]:
    """Store one activity from each host the way the inbox does; which were stored."""
    arrivals = [
        ArrivingActivity(
            iri=f"https://{host}/activities/{n}", actor_iri=f"https://{host}/users/a",
            host=host, type="Create", document_text="{}", received_at=NOW,
        )
        for n, host in enumerate(hosts)
    ]
    results = await ctx.storage.store_arrivals(arrivals, partial(refused_among, ctx), "inbox")
    assert all(result == ARRIVAL_REFUSED or isinstance(result, int) for result in results)
    return {host: result != ARRIVAL_REFUSED for host, result in zip(hosts, results, strict=True)}


async def block_from_another_process(ctx: NodeContext, host: str) -> None:
    other = create_storage(ctx.settings)
    await other.open()
    try:
        async with other.transaction() as tx:
            await tx.set_host_policy(HostPolicy(host, "block", "", NOW))
    finally:
        await other.close()


async def test_own_changes_apply_at_once(ctx: NodeContext) -> None:
    assert await host_screened(ctx, "spam.example")
    await federation_admin.set_policy(ctx, "spam.example", "block")
    assert not await host_screened(ctx, "spam.example")
    await federation_admin.clear_policy(ctx, "spam.example")
    assert await host_screened(ctx, "spam.example")


async def test_another_process_change_is_seen_after_the_ttl(
    ctx: NodeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(policy.time, "monotonic", lambda: clock[0])
    assert await host_screened(ctx, "spam.example")
    await block_from_another_process(ctx, "spam.example")

    assert await host_screened(ctx, "spam.example")  # still remembered
    # The batch check inside the storing transaction sees it at once.
    assert await stored_as_the_inbox_stores(ctx, ["spam.example", "ok.example"]) == {
        "spam.example": False, "ok.example": True,
    }
    clock[0] += policy.POLICY_MEMORY_TTL
    assert not await host_screened(ctx, "spam.example")


async def test_callers_arriving_together_share_one_read(
    ctx: NodeContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = 0
    original = PolicyMemory._read

    async def counted(self: PolicyMemory) -> object:
        nonlocal reads
        reads += 1
        return await original(self)

    monkeypatch.setattr(PolicyMemory, "_read", counted)
    policy_memory_for(ctx.storage).forget()
    hosts = [f"h{n}.example" for n in range(20)]
    assert all(await asyncio.gather(*(host_screened(ctx, host) for host in hosts)))
    assert reads == 1


async def test_allowlist_mode_refuses_unlisted_hosts(ctx: NodeContext) -> None:
    ctx.settings = replace(ctx.settings, federation="allowlist")
    await federation_admin.set_policy(ctx, "friend.example", "allow")
    assert await host_screened(ctx, "friend.example")
    assert not await host_screened(ctx, "stranger.example")
    assert await host_screened(ctx, ctx.settings.public_host)
    own = ctx.settings.public_host
    assert await stored_as_the_inbox_stores(ctx, ["friend.example", "stranger.example", own]) == {
        "friend.example": True, "stranger.example": False, own: True,
    }


_IRI_PARTS = st.sampled_from([
    "https://", "http://", "HTTPS://", "ftp://", "//", "h.example", "H.Example", ":8080", "@",
    "u:p@", "[::1]", "[", "]", "/", "?", "#", "\t", "\n", "\r", " ", "\\", "é", "%41", ".", "",
])


@settings(database=None, max_examples=500, deadline=None)
@given(st.lists(_IRI_PARTS, max_size=8).map("".join))
def test_host_of_is_the_lowered_netloc_urlsplit_finds(iri: str) -> None:
    try:
        expected: object = urlsplit(iri).netloc.lower()
    except ValueError as exc:  # e.g. an unclosed IPv6 bracket
        expected = type(exc)
    try:
        found: object = policy.host_of.__wrapped__(iri)
    except ValueError as exc:
        found = type(exc)
    assert found == expected
