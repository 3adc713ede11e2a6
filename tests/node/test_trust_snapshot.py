"""The trust graph kept between changes: its inputs version moves with every
write reputation depends on (on both backends, in the writer's transaction),
and the memo builds again exactly when that version or the clock says so."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from conftest import MemberFactory

from node.services import accounts
from node.services.context import NodeContext
from node.services.reputation import (
    counted_ratings,
    moved_shelf_for,
    reputation_of,
    reputations_of,
    trust_graph,
)
from node.services.trust_snapshot import MAX_AGE, MemoShelf, VersionedMemo, trust_memo_for
from node.storage.records import Attestation, VouchRecord
from protocol.reputation import compute_all

ISSUER = "https://a.example/users/ann"
SUBJECT = "https://b.example/users/ben"
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def attestation(name: str, rating: int = 5, subject: str = SUBJECT) -> Attestation:
    return Attestation(
        iri=f"https://a.example/attestations/{name}", issuer_iri=ISSUER, subject_iri=subject,
        agreement_iri=f"https://a.example/agreements/{name}", issuer_role="provider",
        subject_role="receiver", rating=rating, comment=None, valid_from="2026-11-01T00:00:00Z",
        supersedes=None, document={}, received_at="2026-11-01T00:00:00Z", withdrawn_at=None,
    )


async def version(ctx: NodeContext) -> int:
    async with ctx.storage.read() as session:
        return await session.reputation_inputs_version()


# --- the version, in storage ---------------------------------------------------------------


@pytest.mark.spec("Kula reputation: computed once per change")
async def test_every_write_reputation_reads_moves_the_version(
    ctx: NodeContext, make_member: MemberFactory
) -> None:
    seen = [await version(ctx)]

    async def moved() -> bool:
        seen.append(await version(ctx))
        return seen[-1] != seen[-2]

    alice = await make_member("alice")
    assert await moved()  # a new member seeds the graph
    async with ctx.storage.transaction() as tx:
        await tx.save_attestation(attestation("one"))
    assert await moved()
    async with ctx.storage.transaction() as tx:
        await tx.withdraw_attestation(attestation("one").iri, ISSUER, "2026-11-02T00:00:00Z")
    assert await moved()
    vouch = VouchRecord(iri="https://a.example/vouches/1", issuer_iri=ISSUER,
                        subject_iri=SUBJECT, valid_from="2026-11-01T00:00:00Z", document={},
                        received_at="2026-11-01T00:00:00Z", revoked_at=None)
    async with ctx.storage.transaction() as tx:
        await tx.save_vouch(vouch)
    assert await moved()
    async with ctx.storage.transaction() as tx:
        await tx.revoke_vouch(vouch.iri, ISSUER, "2026-11-02T00:00:00Z")
    assert await moved()
    await accounts.set_suspended(ctx, "alice", True)
    assert await moved()  # a suspended member seeds nothing

    # Writes reputation does not read leave it alone.
    async with ctx.storage.transaction() as tx:
        await tx.set_member_password(alice.member.id, "another hash")
    assert not await moved()


@pytest.mark.spec("Kula reputation: computed once per change")
async def test_a_rolled_back_write_leaves_the_version(ctx: NodeContext) -> None:
    before = await version(ctx)
    with pytest.raises(RuntimeError):
        async with ctx.storage.transaction() as tx:
            await tx.save_attestation(attestation("undone"))
            raise RuntimeError("rolled back")
    assert await version(ctx) == before


@pytest.mark.spec("Kula reputation: computed once per change")
async def test_reputation_is_computed_once_until_an_input_changes(
    ctx: NodeContext,
) -> None:
    memo = trust_memo_for(ctx.storage)
    async with ctx.storage.transaction() as tx:
        await tx.save_attestation(attestation("one", rating=4))
    first = await reputation_of(ctx, SUBJECT)
    again = await reputations_of(ctx, [SUBJECT, ISSUER])
    builds = memo.builds
    assert again[SUBJECT] == first
    assert (await reputation_of(ctx, SUBJECT)) == first and memo.builds == builds

    async with ctx.storage.transaction() as tx:
        await tx.save_attestation(attestation("two", rating=1))
    changed = await reputation_of(ctx, SUBJECT)
    assert memo.builds == builds + 1
    assert (first.count, changed.count) == (1, 2)
    assert changed.score < first.score
    # What the kept graph holds is what a computation from scratch gives.
    graph = await trust_graph(ctx)
    assert memo.builds == builds + 1
    async with ctx.storage.read() as session:
        ratings = counted_ratings(await session.attestation_edges())
    assert compute_all(ratings, seeds=graph.seeds, now=graph.now, params=graph.params) == (
        graph.every
    )


@pytest.mark.spec("Kula reputation: computed once per change")
async def test_an_account_that_moved_here_is_kept_by_itself(ctx: NodeContext) -> None:
    old, new, older = SUBJECT, "https://c.example/users/ben", "https://d.example/users/ben"
    async with ctx.storage.transaction() as tx:
        await tx.record_move(old, new, "2026-11-02T00:00:00Z")
        await tx.save_attestation(attestation("one", rating=4, subject=old))
    first = await reputation_of(ctx, new)
    assert first.count == 1  # the former account's rating counts for the new one
    memo = moved_shelf_for(ctx.storage).memo((new, frozenset({old})))
    assert memo.builds == 1
    assert await reputation_of(ctx, new) == first and memo.builds == 1

    async with ctx.storage.transaction() as tx:
        await tx.save_attestation(attestation("two", rating=2, subject=old))
    assert (await reputation_of(ctx, new)).count == 2 and memo.builds == 2

    # Another move here: other former accounts, another computation.
    async with ctx.storage.transaction() as tx:
        await tx.record_move(older, new, "2026-11-03T00:00:00Z")
        await tx.save_attestation(attestation("three", rating=5, subject=older))
    assert (await reputation_of(ctx, new)).count == 3


# --- the memo ------------------------------------------------------------------------------


class Inputs:
    def __init__(self) -> None:
        self.version = 1
        self.now = T0
        self.built: list[int] = []
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()

    async def read_version(self) -> int:
        return self.version

    def clock(self) -> datetime:
        return self.now

    async def build(self) -> str:
        seen = self.version  # what reading the attestations now would find
        self.built.append(seen)
        self.started.set()
        await self.release.wait()
        return f"graph of version {seen}"


async def test_the_memo_builds_again_only_when_the_version_or_the_age_says_so() -> None:
    memo: VersionedMemo[str] = VersionedMemo()
    inputs = Inputs()
    get = lambda: memo.get(inputs.read_version, inputs.clock, inputs.build)  # noqa: E731

    assert await get() == "graph of version 1"
    inputs.now = T0 + MAX_AGE
    assert await get() == "graph of version 1"
    assert inputs.built == [1]

    inputs.version = 2
    assert await get() == "graph of version 2"
    inputs.now = T0 + MAX_AGE + timedelta(seconds=1)
    assert await get() == "graph of version 2"  # built at T0 + MAX_AGE: still young
    inputs.now = T0 + 2 * MAX_AGE + timedelta(seconds=1)
    assert await get() == "graph of version 2"
    inputs.now = T0  # a clock that went back: the kept graph is from its future
    assert await get() == "graph of version 2"
    assert inputs.built == [1, 2, 2, 2]
    assert memo.builds == 4


async def test_callers_waiting_together_share_one_build() -> None:
    memo: VersionedMemo[str] = VersionedMemo()
    inputs = Inputs()
    inputs.release.clear()
    waiting = [
        asyncio.ensure_future(memo.get(inputs.read_version, inputs.clock, inputs.build))
        for _ in range(5)
    ]
    await inputs.started.wait()
    inputs.release.set()
    assert await asyncio.gather(*waiting) == ["graph of version 1"] * 5
    assert inputs.built == [1]


async def test_a_change_while_building_is_seen_by_the_next_call() -> None:
    memo: VersionedMemo[str] = VersionedMemo()
    inputs = Inputs()
    inputs.release.clear()
    building = asyncio.ensure_future(memo.get(inputs.read_version, inputs.clock, inputs.build))
    await inputs.started.wait()
    inputs.version = 2  # a write landed after the version was read
    inputs.release.set()
    assert await building == "graph of version 1"
    assert await memo.get(inputs.read_version, inputs.clock, inputs.build) == (
        "graph of version 2"
    )


def test_the_shelf_keeps_the_most_recently_used() -> None:
    shelf: MemoShelf[str] = MemoShelf(size=2)
    first, second = shelf.memo("a"), shelf.memo("b")
    assert shelf.memo("a") is first  # "a" is now the most recent
    shelf.memo("c")
    assert shelf.memo("a") is first
    assert shelf.memo("b") is not second  # dropped when "c" came
