"""Client API: registration (open, invite, closed), sessions, the caller's
profile and password, and the operator's invite and member administration."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from unittest import mock

import pytest
from aiohttp import streams
from aiohttp.test_utils import TestClient, make_mocked_request
from conftest import TEST_PASSWORD, MemberFactory, make_settings
from helpers import assert_problem, json_body, pointers, row_counts

from node.errors import PayloadTooLarge
from node.services import invites
from node.services.context import NodeContext
from node.settings import Settings
from node.web.requests import SESSION_COOKIE, read_body

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Loops of refused sign-ups would trip the auth limit, which has its own test below.
    return make_settings(tmp_path / "node", rate_limit_auth_per_minute=1000)


def registration(username: str = "carol", **extra: str) -> dict[str, str]:
    return {"username": username, "password": TEST_PASSWORD, **extra}


# --- registration, open mode ------------------------------------------------------------


@pytest.mark.spec("Kula API POST /api/v1/members")
async def test_open_registration_creates_member(client: TestClient, ctx: NodeContext) -> None:
    response = await client.post("/api/v1/members", json=registration())
    body = await json_body(response, 201, "api-member")
    assert body["username"] == "carol"
    assert body["handle"] == "carol@127.0.0.1:8080"
    assert body["iri"] == "http://127.0.0.1:8080/users/carol"
    assert body["is_admin"] is False and body["suspended"] is False
    # The new member can log in with the password they chose.
    login = await client.post("/api/v1/sessions", json=registration())
    session = await json_body(login, 201, "api-session")
    assert session["member"]["username"] == "carol"


# Cases share one node per test: starting a node makes keys, which is the slow part.
BAD_REGISTRATIONS: list[tuple[object, str]] = [
    ({"username": "carol"}, ""),
    ({"password": TEST_PASSWORD}, ""),
    ({**registration(), "admin": True}, ""),
    ({"username": 7, "password": TEST_PASSWORD}, "/username"),
    ({"username": "Carol", "password": TEST_PASSWORD}, "/username"),
    ({"username": "c" * 31, "password": TEST_PASSWORD}, "/username"),
    ({"username": "", "password": TEST_PASSWORD}, "/username"),
    ({"username": "carol", "password": "short"}, "/password"),
    ({"username": "carol", "password": None}, "/password"),
    ({**registration(), "invite_code": ""}, "/invite_code"),
    ([registration()], ""),
    ("carol", ""),
    (0, ""),
]


@pytest.mark.spec("Kula API POST /api/v1/members")
async def test_registration_rejects_bad_bodies(client: TestClient, ctx: NodeContext) -> None:
    before = await row_counts(ctx)
    for body, pointer in BAD_REGISTRATIONS:
        response = await client.post("/api/v1/members", json=body)
        problem = await assert_problem(response, 422, "validation-failed")
        assert pointer in pointers(problem), (body, problem)
    assert await row_counts(ctx) == before


UNREADABLE_BODIES: list[tuple[bytes, str, int, str]] = [
    (b'{"username": "carol",', "application/json", 400, "malformed-json"),
    (b'{"username": "carol", "username": "eve", "password": "xxxxxxxxxxxx"}',
     "application/json", 400, "malformed-json"),
    (b"\xff\xfe{}", "application/json", 400, "malformed-json"),
    (b"", "application/json", 400, "bad-request"),
    (b"username=carol&password=xxxxxxxxxxxx", "application/x-www-form-urlencoded",
     415, "unsupported-media-type"),
    (b'{"username": "carol"}', "text/plain", 415, "unsupported-media-type"),
    (b'{"username": "carol"}', "", 415, "unsupported-media-type"),
]


@pytest.mark.spec("RFC 9457 §3")
async def test_registration_rejects_unreadable_bodies(
    client: TestClient, ctx: NodeContext
) -> None:
    before = await row_counts(ctx)
    for data, content_type, status, slug in UNREADABLE_BODIES:
        response = await client.post(
            "/api/v1/members", data=data, headers={"Content-Type": content_type}
        )
        await assert_problem(response, status, slug)
    assert await row_counts(ctx) == before


@pytest.mark.spec("RFC 9110 §15.5.14")
async def test_registration_refuses_oversized_body(
    client: TestClient, ctx: NodeContext, settings: Settings
) -> None:
    before = await row_counts(ctx)
    filler = "x" * settings.max_body_bytes
    response = await client.post("/api/v1/members", json={**registration(), "pad": filler})
    await assert_problem(response, 413, "payload-too-large")
    assert await row_counts(ctx) == before


@pytest.mark.spec("RFC 9110 §15.5.14")
async def test_oversized_chunked_body_is_refused_without_length(
    client: TestClient, ctx: NodeContext, settings: Settings
) -> None:
    """Without Content-Length the limit must still hold while reading."""
    before = await row_counts(ctx)
    filler = b"x" * (settings.max_body_bytes + 10)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(filler), 16 * 1024):
            yield filler[start : start + 16 * 1024]

    response = await client.post(
        "/api/v1/members", data=chunks(), headers={"Content-Type": "application/json"}
    )
    await assert_problem(response, 413, "payload-too-large")
    assert await row_counts(ctx) == before


@pytest.mark.spec("Kula API POST /api/v1/members")
async def test_large_body_under_the_limit_is_read_whole(
    client: TestClient, ctx: NodeContext, settings: Settings
) -> None:
    """A body of many chunks (but under the limit) is parsed whole, so the error is
    about its content (an unknown member), not a truncated document."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"username": "carol", "password": "correct horse battery staple", "pad": "'
        for _ in range(settings.max_body_bytes // (32 * 1024) - 1):
            yield b"y" * (16 * 1024)
        yield b'"}'

    response = await client.post(
        "/api/v1/members", data=chunks(), headers={"Content-Type": "application/json"}
    )
    problem = await assert_problem(response, 422, "validation-failed")
    assert "/pad" in pointers(problem) or "additional" in problem["detail"].lower()


@pytest.mark.spec("RFC 9112 §6")
async def test_read_body_waits_for_every_packet() -> None:
    """A body that arrives in several packets is read whole, and the limit still holds."""
    loop = asyncio.get_running_loop()

    def request_with(parts: list[bytes]) -> object:
        payload = streams.StreamReader(mock.Mock(_reading_paused=False), 2**16, loop=loop)
        payload.feed_data(parts[0])

        def deliver_rest() -> None:
            for part in parts[1:]:
                payload.feed_data(part)
            payload.feed_eof()

        loop.call_soon(deliver_rest)
        return make_mocked_request("POST", "/", payload=payload)

    assert await read_body(request_with([b"a" * 10, b"b" * 10]), 100) == b"a" * 10 + b"b" * 10
    with pytest.raises(PayloadTooLarge):
        await read_body(request_with([b"a" * 60, b"b" * 60]), 100)


@pytest.mark.spec("Kula API POST /api/v1/members")
async def test_duplicate_username_conflicts(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    await make_member("alice")
    before = await row_counts(ctx)
    response = await client.post("/api/v1/members", json=registration("alice"))
    await assert_problem(response, 409, "conflict")
    assert await row_counts(ctx) == before


@pytest.mark.spec("Kula API POST /api/v1/members")
async def test_reserved_usernames_are_refused(client: TestClient, ctx: NodeContext) -> None:
    before = await row_counts(ctx)
    for username in ("admin", "actor", "inbox", "community", "nodeinfo"):
        response = await client.post("/api/v1/members", json=registration(username))
        problem = await assert_problem(response, 409, "conflict")
        assert "reserved" in problem["detail"]
    assert await row_counts(ctx) == before


@pytest.mark.spec("Kula API POST /api/v1/members")
async def test_open_registration_ignores_invite_code(client: TestClient) -> None:
    response = await client.post("/api/v1/members", json=registration(invite_code="anything"))
    await json_body(response, 201, "api-member")


# --- registration, invite and closed modes ---------------------------------------------


class TestInviteRegistration:
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return make_settings(tmp_path / "node", registration="invite")

    @pytest.mark.spec("Kula API POST /api/v1/members (invite mode)")
    async def test_needs_a_code(self, client: TestClient, ctx: NodeContext) -> None:
        before = await row_counts(ctx)
        response = await client.post("/api/v1/members", json=registration())
        await assert_problem(response, 403, "forbidden")
        response = await client.post("/api/v1/members", json=registration(invite_code="nope"))
        await assert_problem(response, 403, "forbidden")
        assert await row_counts(ctx) == before

    @pytest.mark.spec("Kula API POST /api/v1/members (invite mode)")
    async def test_uses_are_counted_and_exhausted_invites_refused(
        self, client: TestClient, ctx: NodeContext
    ) -> None:
        issued = await invites.create_invite(ctx, created_by=None, max_uses=1)
        response = await client.post(
            "/api/v1/members", json=registration("carol", invite_code=issued.code)
        )
        await json_body(response, 201, "api-member")
        [invite] = await invites.list_invites(ctx)
        assert invite.uses == 1
        before = await row_counts(ctx)
        response = await client.post(
            "/api/v1/members", json=registration("dave", invite_code=issued.code)
        )
        await assert_problem(response, 403, "forbidden")
        assert await row_counts(ctx) == before
        [invite] = await invites.list_invites(ctx)
        assert invite.uses == 1

    @pytest.mark.spec("Kula API POST /api/v1/members (invite mode)")
    async def test_failed_registration_does_not_burn_the_invite(
        self, client: TestClient, ctx: NodeContext, make_member: MemberFactory
    ) -> None:
        await make_member("alice")
        issued = await invites.create_invite(ctx, created_by=None, max_uses=1)
        failures = [
            (registration("alice", invite_code=issued.code), 409),  # taken
            (registration("admin", invite_code=issued.code), 409),  # reserved
            ({"username": "carol", "password": "short", "invite_code": issued.code}, 422),
        ]
        for body, status in failures:
            response = await client.post("/api/v1/members", json=body)
            assert response.status == status, await response.text()
        [invite] = await invites.list_invites(ctx)
        assert invite.uses == 0
        response = await client.post(
            "/api/v1/members", json=registration("carol", invite_code=issued.code)
        )
        await json_body(response, 201, "api-member")

    @pytest.mark.spec("Kula API POST /api/v1/members (invite mode)")
    async def test_revoked_and_expired_invites_are_refused(
        self, client: TestClient, ctx: NodeContext
    ) -> None:
        revoked = await invites.create_invite(ctx, created_by=None)
        await invites.revoke_invite(ctx, revoked.invite.id)
        expired = await invites.create_invite(ctx, created_by=None)
        async with ctx.storage.transaction() as tx:
            await tx._exec(
                "UPDATE invites SET expires_at = '2000-01-01T00:00:00Z' WHERE id = ?",
                (expired.invite.id,),
            )
        before = await row_counts(ctx)
        for code in (revoked.code, expired.code):
            response = await client.post(
                "/api/v1/members", json=registration(invite_code=code)
            )
            await assert_problem(response, 403, "forbidden")
        assert await row_counts(ctx) == before


class TestClosedRegistration:
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return make_settings(tmp_path / "node", registration="closed")

    @pytest.mark.spec("Kula API POST /api/v1/members (closed mode)")
    async def test_refuses_everyone(self, client: TestClient, ctx: NodeContext) -> None:
        issued = await invites.create_invite(ctx, created_by=None)
        before = await row_counts(ctx)
        for body in (registration(), registration(invite_code=issued.code)):
            response = await client.post("/api/v1/members", json=body)
            await assert_problem(response, 403, "forbidden")
        assert await row_counts(ctx) == before
        [invite] = await invites.list_invites(ctx)
        assert invite.uses == 0


class TestAuthRateLimit:
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return make_settings(tmp_path / "node", rate_limit_auth_per_minute=2)

    @pytest.mark.spec("RFC 6585 §4")
    async def test_too_many_auth_requests(self, client: TestClient, ctx: NodeContext) -> None:
        # Invalid bodies still spend the budget: the limit is checked first.
        for _ in range(2):
            response = await client.post("/api/v1/sessions", json={"username": "x"})
            await assert_problem(response, 422, "validation-failed")
        before = await row_counts(ctx)
        for path in ("/api/v1/sessions", "/api/v1/members"):
            response = await client.post(path, json=registration())
            problem = await assert_problem(response, 429, "rate-limited")
            retry_after = int(response.headers["Retry-After"])
            assert 1 <= retry_after <= 60
            assert problem["retry_after"] == retry_after
        assert await row_counts(ctx) == before


# --- profiles ---------------------------------------------------------------------------


@pytest.mark.spec("Kula API GET /api/v1/members/{username}")
async def test_show_member_is_public_and_hides_private_fields(
    client: TestClient, make_member: MemberFactory
) -> None:
    await make_member("alice")
    body = await json_body(await client.get("/api/v1/members/alice"), 200, "api-member")
    assert body["username"] == "alice"
    assert "is_admin" not in body and "suspended" not in body
    await assert_problem(await client.get("/api/v1/members/nobody"), 404, "not-found")


@pytest.mark.spec("Kula API GET /api/v1/me")
async def test_me_needs_a_token(client: TestClient, make_member: MemberFactory) -> None:
    alice = await make_member("alice", scope="read")
    body = await json_body(await client.get("/api/v1/me", headers=alice.auth), 200, "api-member")
    assert body["username"] == "alice" and body["is_admin"] is False
    await assert_problem(await client.get("/api/v1/me"), 401, "unauthorized")
    for header in ("Bearer", "Basic YWxpY2U6eA==", "Bearer kula_unknown", "Token abc"):
        response = await client.get("/api/v1/me", headers={"Authorization": header})
        await assert_problem(response, 401, "unauthorized")


@pytest.mark.spec("Kula API PATCH /api/v1/me")
async def test_update_profile(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    response = await client.patch(
        "/api/v1/me",
        json={"display_name": "Alice A.", "summary": "Tools", "manually_approves_followers": True},
        headers=alice.auth,
    )
    body = await json_body(response, 200, "api-member")
    assert (body["display_name"], body["summary"]) == ("Alice A.", "Tools")
    assert body["manually_approves_followers"] is True
    actor = await (await client.get("/users/alice")).json(content_type=None)
    assert actor["name"] == "Alice A."


@pytest.mark.spec("Kula API PATCH /api/v1/me")
async def test_update_profile_rejects_bad_bodies(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    for body in (
        {},
        {"display_name": ""},
        {"display_name": "x" * 101},
        {"summary": 5},
        {"manually_approves_followers": "yes"},
        {"username": "mallory"},
        {"is_admin": True},
    ):
        response = await client.patch("/api/v1/me", json=body, headers=alice.auth)
        await assert_problem(response, 422, "validation-failed")
    response = await client.patch(
        "/api/v1/me", data=b"summary=x", headers={**alice.auth, "Content-Type": "text/plain"}
    )
    await assert_problem(response, 415, "unsupported-media-type")
    me = await (await client.get("/api/v1/me", headers=alice.auth)).json()
    assert (me["display_name"], me["summary"], me["is_admin"]) == ("alice", "", False)


@pytest.mark.spec("Kula API PATCH /api/v1/me")
async def test_update_profile_needs_write_scope(
    client: TestClient, make_member: MemberFactory
) -> None:
    reader = await make_member("alice", scope="read")
    response = await client.patch("/api/v1/me", json={"summary": "x"}, headers=reader.auth)
    await assert_problem(response, 403, "forbidden")
    response = await client.patch("/api/v1/me", json={"summary": "x"})
    await assert_problem(response, 401, "unauthorized")


# --- sessions and passwords -------------------------------------------------------------


@pytest.mark.spec("Kula API POST /api/v1/sessions")
async def test_login_sets_cookie_and_logout_revokes(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    await make_member("alice")
    response = await client.post(
        "/api/v1/sessions", json={"username": "alice", "password": TEST_PASSWORD}
    )
    session = await json_body(response, 201, "api-session")
    assert session["scope"] == "write"
    cookie = response.cookies[SESSION_COOKIE]
    assert cookie.value == session["token"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    bearer = {"Authorization": f"Bearer {session['token']}"}
    await json_body(await client.get("/api/v1/me", headers=bearer), 200, "api-member")
    # The cookie alone authenticates too (the test client keeps it).
    await json_body(await client.get("/api/v1/me"), 200, "api-member")
    response = await client.delete("/api/v1/sessions/current", headers=bearer)
    assert response.status == 204
    await assert_problem(await client.get("/api/v1/me", headers=bearer), 401, "unauthorized")
    client.session.cookie_jar.clear()
    response = await client.delete("/api/v1/sessions/current")
    await assert_problem(response, 401, "unauthorized")


@pytest.mark.spec("Kula API POST /api/v1/sessions")
async def test_login_failures(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    await make_member("alice")
    before = await row_counts(ctx)
    for body in (
        {"username": "alice", "password": "wrong password!"},
        {"username": "nobody", "password": TEST_PASSWORD},
    ):
        await assert_problem(await client.post("/api/v1/sessions", json=body), 401, "unauthorized")
    for body in ({"username": "alice"}, {"username": "alice", "password": "", "x": 1}):
        response = await client.post("/api/v1/sessions", json=body)
        await assert_problem(response, 422, "validation-failed")
    assert await row_counts(ctx) == before


@pytest.mark.spec("Kula API POST /api/v1/sessions")
async def test_admin_login_gets_admin_scope(
    client: TestClient, make_member: MemberFactory
) -> None:
    await make_member("root_user", admin=True)
    response = await client.post(
        "/api/v1/sessions", json={"username": "root_user", "password": TEST_PASSWORD}
    )
    session = await json_body(response, 201, "api-session")
    assert session["scope"] == "admin" and session["member"]["is_admin"] is True


@pytest.mark.spec("Kula API POST /api/v1/me/password")
async def test_change_password(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    wrong = {"current_password": "not my password", "new_password": NEW_PASSWORD}
    response = await client.post("/api/v1/me/password", json=wrong, headers=alice.auth)
    await assert_problem(response, 401, "unauthorized")
    for body in (
        {"current_password": TEST_PASSWORD, "new_password": "short"},
        {"current_password": TEST_PASSWORD},
        {"new_password": NEW_PASSWORD},
        {"current_password": TEST_PASSWORD, "new_password": 1234567890123},
        {"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD, "logout": True},
    ):
        response = await client.post("/api/v1/me/password", json=body, headers=alice.auth)
        await assert_problem(response, 422, "validation-failed")
    response = await client.post("/api/v1/me/password", json=wrong)
    await assert_problem(response, 401, "unauthorized")
    good = {"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD}
    response = await client.post("/api/v1/me/password", json=good, headers=alice.auth)
    assert response.status == 204
    old = {"username": "alice", "password": TEST_PASSWORD}
    await assert_problem(await client.post("/api/v1/sessions", json=old), 401, "unauthorized")
    new = {"username": "alice", "password": NEW_PASSWORD}
    await json_body(await client.post("/api/v1/sessions", json=new), 201, "api-session")


# --- administration ---------------------------------------------------------------------


@pytest.mark.spec("Kula API /api/v1/admin/invites")
async def test_admin_invites(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    admin = await make_member("boss", scope="admin")
    response = await client.post(
        "/api/v1/admin/invites", json={"max_uses": 3, "note": "for the bakery"},
        headers=admin.auth,
    )
    created = await json_body(response, 201, "api-invite")
    assert created["code"].startswith("invite_") and created["uses"] == 0
    listed = await json_body(
        await client.get("/api/v1/admin/invites", headers=admin.auth), 200, "api-invite-list"
    )
    assert [item["id"] for item in listed["items"]] == [created["id"]]
    assert "code" not in listed["items"][0]
    response = await client.delete(f"/api/v1/admin/invites/{created['id']}", headers=admin.auth)
    assert response.status == 204
    listed = await (await client.get("/api/v1/admin/invites", headers=admin.auth)).json()
    assert listed["items"][0]["revoked"] is True
    response = await client.delete(f"/api/v1/admin/invites/{created['id']}", headers=admin.auth)
    await assert_problem(response, 404, "not-found")


@pytest.mark.spec("Kula API /api/v1/admin/invites")
async def test_admin_invite_rejects_bad_bodies(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    admin = await make_member("boss", scope="admin")
    before = await row_counts(ctx)
    for body in ({"max_uses": 0}, {"max_uses": 10_001}, {"max_uses": "3"},
                 {"expires_in_days": 0}, {"expires_in_days": 4000}, {"note": "x" * 501},
                 {"uses": 2}, []):
        response = await client.post("/api/v1/admin/invites", json=body, headers=admin.auth)
        await assert_problem(response, 422, "validation-failed")
    assert await row_counts(ctx) == before


@pytest.mark.spec("Kula API /api/v1/admin")
async def test_admin_endpoints_need_admin_scope(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    before = await row_counts(ctx)
    calls = [
        ("GET", "/api/v1/admin/invites", None),
        ("POST", "/api/v1/admin/invites", {}),
        ("DELETE", "/api/v1/admin/invites/01aaaaaaaaaaaaaaaaaaaaaaaa", None),
        ("GET", "/api/v1/admin/members", None),
        ("POST", "/api/v1/admin/members/alice/suspension", None),
        ("DELETE", "/api/v1/admin/members/alice/suspension", None),
    ]
    for method, path, body in calls:
        response = await client.request(method, path, json=body, headers=alice.auth)
        await assert_problem(response, 403, "forbidden")
        await assert_problem(await client.request(method, path, json=body), 401, "unauthorized")
    assert await row_counts(ctx) == before


@pytest.mark.spec("Kula API /api/v1/admin/members")
async def test_suspension_blocks_tokens_login_and_webfinger(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    admin = await make_member("boss", scope="admin")
    alice = await make_member("alice")
    listed = await json_body(
        await client.get("/api/v1/admin/members", headers=admin.auth), 200, "api-member-list"
    )
    assert [m["username"] for m in listed["items"]] == ["boss", "alice"]
    response = await client.post("/api/v1/admin/members/alice/suspension", headers=admin.auth)
    assert (await json_body(response, 200, "api-member"))["suspended"] is True
    await assert_problem(await client.get("/api/v1/me", headers=alice.auth), 403, "forbidden")
    before = await row_counts(ctx)
    response = await client.post(
        "/api/v1/listings", json={"purpose": "offer", "mode": "give", "title": "Chair"},
        headers=alice.auth,
    )
    await assert_problem(response, 403, "forbidden")
    login = {"username": "alice", "password": TEST_PASSWORD}
    await assert_problem(await client.post("/api/v1/sessions", json=login), 403, "forbidden")
    assert await row_counts(ctx) == before
    webfinger = await client.get(
        "/.well-known/webfinger", params={"resource": "acct:alice@127.0.0.1:8080"}
    )
    await assert_problem(webfinger, 404, "not-found")
    response = await client.delete("/api/v1/admin/members/alice/suspension", headers=admin.auth)
    assert (await json_body(response, 200, "api-member"))["suspended"] is False
    await json_body(await client.get("/api/v1/me", headers=alice.auth), 200, "api-member")
    response = await client.post("/api/v1/admin/members/nobody/suspension", headers=admin.auth)
    await assert_problem(response, 404, "not-found")


@pytest.mark.spec("RFC 9110 §15.5.6")
async def test_unknown_route_and_method_are_problems(client: TestClient) -> None:
    await assert_problem(await client.get("/api/v1/nothing-here"), 404, "not-found")
    response = await client.put("/api/v1/me", json={})
    await assert_problem(response, 405, "method-not-allowed")
    assert "PATCH" in response.headers["Allow"]
