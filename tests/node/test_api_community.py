"""Client API: community settings an operator changes without editing files;
sign-up, NodeInfo and the community Group follow them at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from conftest import TEST_PASSWORD, MemberFactory, make_settings
from helpers import assert_problem, execute, json_body, pointers

from node.services.context import NodeContext
from node.settings import Settings
from protocol.validation import validate

COMMUNITY = "/api/v1/admin/community"
GROUP = "http://127.0.0.1:8080/users/community"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "node", name="Hill tools", description="Tools on the hill",
                         registration="invite", rate_limit_auth_per_minute=1000)


async def group_outbox(ctx: NodeContext) -> list[dict]:
    async with ctx.storage.read() as session:
        rows = await session._all(
            "SELECT document FROM activities WHERE actor_iri = ? ORDER BY seq", (GROUP,)
        )
    return [json.loads(row["document"]) for row in rows]


@pytest.mark.spec("Kula API /api/v1/admin/community")
async def test_defaults_come_from_the_file_and_changes_win(
    client: TestClient, make_member: MemberFactory, ctx: NodeContext
) -> None:
    admin = await make_member("olga", scope="admin")
    shown = await json_body(await client.get(COMMUNITY, headers=admin.auth), 200,
                            "api-community-settings")
    assert shown == {"name": "Hill tools", "description": "Tools on the hill",
                     "registration": "invite", "rules": "", "contact": "", "overridden": []}
    # An invite-only node refuses a sign-up without a code.
    signup = {"username": "carol", "password": TEST_PASSWORD}
    await assert_problem(await client.post("/api/v1/members", json=signup), 403, "forbidden")

    response = await client.patch(COMMUNITY, headers=admin.auth, json={
        "name": "  Valley tools ", "registration": "open", "rules": "Return things clean.",
        "contact": "ops@valley.example"})
    changed = await json_body(response, 200, "api-community-settings")
    assert changed["name"] == "Valley tools" and changed["registration"] == "open"
    assert changed["overridden"] == ["contact", "name", "registration", "rules"]

    # Registration, NodeInfo and the Group actor follow the stored settings.
    assert (await client.post("/api/v1/members", json=signup)).status == 201
    info = await (await client.get("/nodeinfo/2.1")).json(content_type=None)
    assert info["openRegistrations"] is True
    assert info["metadata"]["nodeName"] == "Valley tools"
    assert info["metadata"]["registration"] == "open"
    group = await (await client.get("/users/community",
                                    headers={"Accept": "application/activity+json"})).json(
        content_type=None)
    assert group["name"] == "Valley tools" and group["summary"] == "<p>Tools on the hill</p>"

    # The new name is federated: an Update of the Group to its followers.
    [update] = await group_outbox(ctx)
    validate(update, "update")
    assert update["type"] == "Update" and update["object"]["name"] == "Valley tools"
    assert update["cc"] == [f"{GROUP}/followers"]

    # A change that leaves name and description alone federates nothing.
    await client.patch(COMMUNITY, headers=admin.auth, json={"rules": "Be kind."})
    assert len(await group_outbox(ctx)) == 1
    # null goes back to the file's value.
    reset = await json_body(
        await client.patch(COMMUNITY, headers=admin.auth, json={"registration": None}), 200,
        "api-community-settings")
    assert reset["registration"] == "invite" and "registration" not in reset["overridden"]


@pytest.mark.spec("Kula API /api/v1/admin/community")
@pytest.mark.parametrize(("body", "pointer"), [
    ({"name": ""}, "/name"),
    ({"name": "   "}, "/name"),
    ({"description": "x" * 1001}, "/description"),
    ({"registration": "sometimes"}, "/registration"),
    ({"colour": "green"}, ""),
    ({}, ""),
])
async def test_invalid_settings_are_refused_and_change_nothing(
    client: TestClient, make_member: MemberFactory, body: dict, pointer: str
) -> None:
    admin = await make_member("olga", scope="admin")
    problem = await assert_problem(
        await client.patch(COMMUNITY, headers=admin.auth, json=body), 422, "validation-failed"
    )
    if pointer:
        assert pointer in pointers(problem)
    shown = await json_body(await client.get(COMMUNITY, headers=admin.auth), 200,
                            "api-community-settings")
    assert shown["overridden"] == []


@pytest.mark.spec("Kula API /api/v1/admin/community")
async def test_only_operators_see_or_change_the_settings(
    client: TestClient, make_member: MemberFactory
) -> None:
    member = await make_member("bob")
    await assert_problem(await client.get(COMMUNITY), 401, "unauthorized")
    await assert_problem(await client.get(COMMUNITY, headers=member.auth), 403, "forbidden")
    await assert_problem(
        await client.patch(COMMUNITY, headers=member.auth, json={"name": "Mine"}), 403,
        "forbidden",
    )


@pytest.mark.spec("Kula API /api/v1/admin/community")
async def test_a_stored_mode_that_is_not_valid_falls_back_to_the_file(
    client: TestClient, make_member: MemberFactory, ctx: NodeContext
) -> None:
    admin = await make_member("olga", scope="admin")
    await execute(ctx, "INSERT INTO node_settings (key, value) VALUES (?, ?)",
                  ("community.registration", "everyone"))
    shown = await json_body(await client.get(COMMUNITY, headers=admin.auth), 200,
                            "api-community-settings")
    assert shown["registration"] == "invite"
