"""Client API: personal API tokens, their scopes, expiry, revocation and the
write rate limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from conftest import TEST_PASSWORD, MemberFactory, make_settings
from helpers import assert_problem, execute, json_body, listing_body, row_counts

from node.errors import Forbidden
from node.services import tokens
from node.services.context import NodeContext
from node.settings import Settings


@pytest.mark.spec("Kula API POST /api/v1/tokens")
async def test_create_list_use_and_revoke(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    response = await client.post("/api/v1/tokens", json={"name": "phone"}, headers=alice.auth)
    created = await json_body(response, 201, "api-token")
    # The default scope is the least one.
    assert created["scope"] == "read" and created["revoked"] is False
    assert created["token"].startswith("kula_")
    phone = {"Authorization": f"Bearer {created['token']}"}
    await json_body(await client.get("/api/v1/me", headers=phone), 200, "api-member")

    listed = await json_body(
        await client.get("/api/v1/tokens", headers=phone), 200, "api-token-list"
    )
    names = [item["name"] for item in listed["items"]]
    assert names == ["test", "phone"]
    assert all("token" not in item for item in listed["items"])
    used = next(item for item in listed["items"] if item["id"] == created["id"])
    assert used["last_used_at"] is not None, "using a token records when"

    response = await client.delete(f"/api/v1/tokens/{created['id']}", headers=alice.auth)
    assert response.status == 204
    problem = await assert_problem(await client.get("/api/v1/me", headers=phone), 401,
                                   "unauthorized")
    assert "revoked" in problem["detail"]
    listed = await (await client.get("/api/v1/tokens", headers=alice.auth)).json()
    assert next(i for i in listed["items"] if i["id"] == created["id"])["revoked"] is True


@pytest.mark.spec("Kula API GET /api/v1/tokens")
async def test_session_tokens_are_not_listed(
    client: TestClient, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    response = await client.post(
        "/api/v1/sessions", json={"username": "alice", "password": TEST_PASSWORD}
    )
    assert response.status == 201
    listed = await (await client.get("/api/v1/tokens", headers=alice.auth)).json()
    assert [item["name"] for item in listed["items"]] == ["test"]


@pytest.mark.spec("Kula API POST /api/v1/tokens")
async def test_scopes_cannot_grow(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    reader = await make_member("alice", scope="read")
    writer_secret = (await tokens.issue_token(ctx, reader.member, "w", "write")).secret
    writer = {"Authorization": f"Bearer {writer_secret}"}
    before = await row_counts(ctx)
    # A read token may not create tokens at all.
    response = await client.post("/api/v1/tokens", json={"name": "x"}, headers=reader.auth)
    await assert_problem(response, 403, "forbidden")
    # A write token may not mint an admin token.
    response = await client.post(
        "/api/v1/tokens", json={"name": "x", "scope": "admin"}, headers=writer
    )
    await assert_problem(response, 403, "forbidden")
    assert await row_counts(ctx) == before
    response = await client.post(
        "/api/v1/tokens", json={"name": "x", "scope": "write"}, headers=writer
    )
    assert (await json_body(response, 201, "api-token"))["scope"] == "write"


@pytest.mark.spec("Kula API POST /api/v1/tokens")
async def test_admin_scope_needs_an_administrator(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    admin = await make_member("boss", scope="admin")
    response = await client.post(
        "/api/v1/tokens", json={"name": "ops", "scope": "admin"}, headers=admin.auth
    )
    assert (await json_body(response, 201, "api-token"))["scope"] == "admin"
    alice = await make_member("alice")
    with pytest.raises(Forbidden):
        await tokens.issue_token(ctx, alice.member, "x", "admin")


@pytest.mark.spec("Kula API POST /api/v1/tokens")
async def test_create_rejects_bad_bodies(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    before = await row_counts(ctx)
    for body in (
        {},
        {"name": ""},
        {"name": "x" * 101},
        {"name": 5},
        {"name": "x", "scope": "root"},
        {"name": "x", "scope": None},
        {"name": "x", "expires_at": "2030-01-01T00:00:00Z"},
        [{"name": "x"}],
    ):
        response = await client.post("/api/v1/tokens", json=body, headers=alice.auth)
        await assert_problem(response, 422, "validation-failed")
    response = await client.post(
        "/api/v1/tokens", data=b"{name: x}", headers={**alice.auth, "Content-Type":
                                                       "application/json"}
    )
    await assert_problem(response, 400, "malformed-json")
    response = await client.post(
        "/api/v1/tokens", data=b"name=x", headers={**alice.auth, "Content-Type": "text/plain"}
    )
    await assert_problem(response, 415, "unsupported-media-type")
    assert await row_counts(ctx) == before


@pytest.mark.spec("Kula API DELETE /api/v1/tokens/{id}")
async def test_revoke_refuses_other_members_and_unknown_tokens(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    bob = await make_member("bob")
    reader = await tokens.issue_token(ctx, alice.member, "r", "read")
    [bobs_token] = await tokens.list_tokens(ctx, bob.member)
    for token_id in (bobs_token.id, "01aaaaaaaaaaaaaaaaaaaaaaaa"):
        response = await client.delete(f"/api/v1/tokens/{token_id}", headers=alice.auth)
        await assert_problem(response, 404, "not-found")
    # Bob's token still works.
    await json_body(await client.get("/api/v1/me", headers=bob.auth), 200, "api-member")
    # Revoking needs the write scope.
    response = await client.delete(
        f"/api/v1/tokens/{reader.token.id}",
        headers={"Authorization": f"Bearer {reader.secret}"},
    )
    await assert_problem(response, 403, "forbidden")


@pytest.mark.spec("RFC 6750 §3.1")
async def test_expired_token_is_refused(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    await execute(ctx, "UPDATE tokens SET expires_at = '2000-01-01T00:00:00Z'")
    before = await row_counts(ctx)
    problem = await assert_problem(
        await client.get("/api/v1/me", headers=alice.auth), 401, "unauthorized"
    )
    assert "expired" in problem["detail"]
    response = await client.post("/api/v1/listings", json=listing_body(), headers=alice.auth)
    await assert_problem(response, 401, "unauthorized")
    assert await row_counts(ctx) == before


@pytest.mark.spec("RFC 6750 §3.1")
async def test_insufficient_scope(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    reader = await make_member("alice", scope="read")
    before = await row_counts(ctx)
    response = await client.post("/api/v1/listings", json=listing_body(), headers=reader.auth)
    problem = await assert_problem(response, 403, "forbidden")
    assert "write" in problem["detail"]
    assert await row_counts(ctx) == before


class TestWriteRateLimit:
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return make_settings(tmp_path / "node", rate_limit_write_per_minute=2)

    @pytest.mark.spec("RFC 6585 §4")
    async def test_too_many_writes(
        self, client: TestClient, ctx: NodeContext, make_member: MemberFactory
    ) -> None:
        alice = await make_member("alice")
        bob = await make_member("bob")
        for _ in range(2):
            response = await client.post(
                "/api/v1/listings", json=listing_body(), headers=alice.auth
            )
            assert response.status == 201
        before = await row_counts(ctx)
        response = await client.post("/api/v1/listings", json=listing_body(), headers=alice.auth)
        await assert_problem(response, 429, "rate-limited")
        assert int(response.headers["Retry-After"]) >= 1
        assert await row_counts(ctx) == before
        # Reads are not limited, and the budget is per member.
        await json_body(await client.get("/api/v1/me", headers=alice.auth), 200, "api-member")
        response = await client.post("/api/v1/listings", json=listing_body(), headers=bob.auth)
        assert response.status == 201
