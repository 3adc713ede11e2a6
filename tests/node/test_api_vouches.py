"""Client API: vouching for people on this node, invites that carry a vouch,
and vouches as trust edges of the reputation the node computes."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from conftest import TEST_PASSWORD, MemberFactory
from helpers import assert_problem, json_body

from node.cli import main
from node.services.context import NodeContext
from node.settings import Settings, load_settings
from node.storage import create_storage
from node.storage.records import VouchRecord
from node.timeutil import to_text
from protocol.vouches import verify_vouch
from tests.support import make_settings

HOST = "127.0.0.1:8080"
BASE = f"http://{HOST}"


@pytest.mark.spec("Kula SPEC §11.4: vouches")
async def test_vouch_is_signed_listed_served_and_revoked(
    client: TestClient, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    await make_member("bob")
    response = await client.post("/api/v1/vouches", json={"subject": f"bob@{HOST}"},
                                 headers=alice.auth)
    vouch = await json_body(response, 201, "api-vouch")
    assert (vouch["issuer"], vouch["subject"]) == (f"{BASE}/users/alice", f"{BASE}/users/bob")

    lists = await json_body(await client.get("/api/v1/members/bob/vouches"), 200,
                            "api-vouch-lists")
    assert [v["iri"] for v in lists["received"]] == [vouch["iri"]] and lists["given"] == []
    document = await (await client.get(vouch["iri"].removeprefix(BASE))).json(content_type=None)
    issuer = await (await client.get("/users/alice")).json(content_type=None)
    checked = verify_vouch(document, issuer)
    assert (checked.issuer, checked.subject) == (vouch["issuer"], vouch["subject"])

    await assert_problem(await client.post("/api/v1/vouches", json={"subject": f"bob@{HOST}"},
                                           headers=alice.auth), 409, "conflict")
    one = f"/api/v1/vouches/{vouch['id']}"
    bob = await make_member("carol")
    await assert_problem(await client.delete(one, headers=bob.auth), 404, "not-found")
    assert (await client.delete(one, headers=alice.auth)).status == 204
    await assert_problem(await client.delete(one, headers=alice.auth), 409, "conflict")
    lists = await json_body(await client.get("/api/v1/members/bob/vouches"), 200,
                            "api-vouch-lists")
    assert lists["received"] == []
    await assert_problem(await client.get(vouch["iri"].removeprefix(BASE)), 410, "gone")
    # Vouching again after a revocation is a new credential.
    again = await json_body(await client.post("/api/v1/vouches", json={
        "subject": f"{BASE}/users/bob"}, headers=alice.auth), 201, "api-vouch")
    assert again["iri"] != vouch["iri"]


@pytest.mark.spec("Kula SPEC §11.4: vouches")
async def test_vouches_that_make_no_sense_are_refused(
    client: TestClient, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    reader = await make_member("reader", scope="read")
    cases = [
        ({"subject": f"alice@{HOST}"}, 422, "validation-failed"),
        ({"subject": f"{BASE}/users/community"}, 422, "validation-failed"),  # the Group
        ({"subject": f"nobody@{HOST}"}, 404, "not-found"),
        ({"subject": "bob"}, 422, "validation-failed"),
        ({}, 422, "validation-failed"),
        ({"subject": "x" * 3000}, 422, "validation-failed"),
    ]
    for body, status, slug in cases:
        response = await client.post("/api/v1/vouches", json=body, headers=alice.auth)
        await assert_problem(response, status, slug)
    await assert_problem(await client.post("/api/v1/vouches", json={"subject": f"alice@{HOST}"},
                                           headers=reader.auth), 403, "forbidden")
    await assert_problem(await client.get("/api/v1/members/nobody/vouches"), 404, "not-found")


class TestInviteVouch:
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return make_settings(tmp_path / "node", registration="invite")

    @pytest.mark.spec("Kula SPEC §11.4: an invite carries a vouch")
    async def test_the_inviter_vouches_for_whoever_signs_up(
        self, client: TestClient, make_member: MemberFactory, ctx: NodeContext
    ) -> None:
        admin = await make_member("root_admin", admin=True, scope="admin")
        plain = await json_body(await client.post("/api/v1/admin/invites", json={},
                                                  headers=admin.auth), 201, "api-invite")
        vouching = await json_body(await client.post(
            "/api/v1/admin/invites", json={"vouch": True, "max_uses": 2}, headers=admin.auth,
        ), 201, "api-invite")
        for username, code in (("carol", vouching["code"]), ("dave", plain["code"]),
                               ("erin", vouching["code"])):
            response = await client.post("/api/v1/members", json={
                "username": username, "password": TEST_PASSWORD, "invite_code": code})
            assert response.status == 201, await response.text()
        given = await json_body(await client.get("/api/v1/members/root_admin/vouches"), 200,
                                "api-vouch-lists")
        assert sorted(v["subject"] for v in given["given"]) == [
            f"{BASE}/users/carol", f"{BASE}/users/erin"
        ]
        async with ctx.storage.read() as session:
            row = await session._one(
                "SELECT count(*) AS n FROM activities WHERE type = 'Create'"
                " AND document LIKE '%VouchCredential%'"
            )
        assert row is not None and row["n"] == 2


@pytest.fixture
def keep_umask() -> Iterator[None]:
    """The CLI tightens the process umask; give the other tests theirs back."""
    previous = os.umask(0o022)
    os.umask(previous)
    yield
    os.umask(previous)


@pytest.mark.spec("Kula CLI: invite")
def test_cli_invite_can_carry_a_members_vouch(tmp_path: Path, keep_umask: None) -> None:
    data = tmp_path / "node"
    assert main(["init", "--data", str(data), "--url", BASE, "--registration", "invite"]) == 0
    assert main(["member", "create", "alice", "--data", str(data)]) == 0
    assert main(["invite", "create", "--vouch-as", "nobody", "--data", str(data)]) == 2
    assert main(["invite", "create", "--vouch-as", "alice", "--data", str(data)]) == 0

    async def alice_vouches_through_the_invite() -> bool:
        storage = create_storage(load_settings(data, {}))
        await storage.open()
        try:
            async with storage.read() as session:
                [row] = await session._all("SELECT code_hash FROM invites")
                voucher = await session.invite_voucher(row["code_hash"])
                member = await session.get_member_by_username("alice")
        finally:
            await storage.close()
        return member is not None and voucher == member.id

    assert asyncio.run(alice_vouches_through_the_invite())


async def _store_vouch(ctx: NodeContext, issuer: str, subject: str, n: int) -> None:
    """A vouch as the inbox would keep it once verified (the API only makes local ones)."""
    now = to_text(datetime.now(UTC) - timedelta(days=1))
    async with ctx.storage.transaction() as tx:
        await tx.save_vouch(VouchRecord(
            iri=f"{issuer}/vouches/{n}", issuer_iri=issuer, subject_iri=subject,
            valid_from=now, document={}, received_at=now, revoked_at=None,
        ))


@pytest.mark.spec("Kula SPEC Reputation: vouches")
async def test_a_vouched_newcomer_gains_trust_and_a_vouching_ring_does_not(
    client: TestClient, make_member: MemberFactory, ctx: NodeContext
) -> None:
    alice, bob = await make_member("alice"), await make_member("bob")
    newcomer = "https://far.example/users/newcomer"
    ring = [f"https://sybil.example/users/s{i}" for i in range(6)]
    stranger = "https://far.example/users/stranger"
    # Vouching for a remote actor needs its actor document, which no test server
    # serves here; the inbox stores a verified remote vouch like this.
    for n, member in enumerate((alice, bob)):
        await _store_vouch(ctx, f"{BASE}/users/{member.member.username}", newcomer, n)
    for i, issuer in enumerate(ring):
        for j, subject in enumerate(ring):
            if i != j:
                await _store_vouch(ctx, issuer, subject, 100 + 10 * i + j)

    async def trust(actor: str) -> float:
        body = await json_body(await client.get("/api/v1/reputation", params={"actor": actor}),
                               200, "api-reputation")
        return float(body["trust"])

    assert await trust(stranger) == 0.0
    assert [await trust(account) for account in ring] == [0.0] * len(ring)
    vouched = await trust(newcomer)
    assert vouched > 0.5
    body = await json_body(await client.get("/api/v1/reputation", params={"actor": newcomer}),
                           200, "api-reputation")
    assert sorted(v["issuer"] for v in body["vouches"]) == [
        f"{BASE}/users/alice", f"{BASE}/users/bob"
    ]
    assert all(v["issuer_trust"] >= 1.0 for v in body["vouches"])
