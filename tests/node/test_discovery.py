"""Discovery and ActivityPub documents: WebFinger (RFC 7033), NodeInfo 2.1,
host-meta (RFC 6415), actors, outboxes and their paging, listing objects and
activities, with their content types."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from conftest import MemberFactory
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from helpers import assert_problem, listing_body

from node.services import listings
from node.services.context import NodeContext
from protocol.multikey import multikey_decode
from protocol.validation import validate

HOST = "127.0.0.1:8080"
BASE = f"http://{HOST}"
AP_TYPES = (
    "application/activity+json",
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
)


async def activity_json(client: TestClient, path: str, accept: str = AP_TYPES[0]) -> Any:
    response = await client.get(path, headers={"Accept": accept})
    assert response.status == 200, await response.text()
    assert response.content_type == "application/activity+json"
    assert "Accept" in response.headers.get("Vary", "")
    return await response.json(content_type=None)


# --- WebFinger --------------------------------------------------------------------------


@pytest.mark.spec("RFC 7033 §4.4")
async def test_webfinger_finds_members_by_every_alias(
    client: TestClient, make_member: MemberFactory
) -> None:
    await make_member("alice")
    for resource in (f"acct:alice@{HOST}", f"{BASE}/users/alice", f"{BASE}/@alice",
                     f"acct:ALICE@{HOST}"):
        response = await client.get("/.well-known/webfinger", params={"resource": resource})
        assert response.status == 200, resource
        assert response.content_type == "application/jrd+json"
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        jrd = await response.json(content_type=None)
        assert jrd["subject"] == f"acct:alice@{HOST}"
        assert f"{BASE}/users/alice" in jrd["aliases"]
        self_link = next(link for link in jrd["links"] if link["rel"] == "self")
        assert self_link == {"rel": "self", "type": "application/activity+json",
                             "href": f"{BASE}/users/alice"}


@pytest.mark.spec("RFC 7033 §4.4")
async def test_webfinger_finds_the_node_actors(client: TestClient) -> None:
    response = await client.get(
        "/.well-known/webfinger", params={"resource": f"acct:{HOST}@{HOST}"}
    )
    jrd = await response.json(content_type=None)
    assert jrd["links"][0]["href"] == f"{BASE}/actor"
    response = await client.get(
        "/.well-known/webfinger", params={"resource": f"acct:community@{HOST}"}
    )
    jrd = await response.json(content_type=None)
    assert jrd["links"][0]["href"] == f"{BASE}/users/community"


@pytest.mark.spec("RFC 7033 §4.2")
async def test_webfinger_errors(client: TestClient, make_member: MemberFactory) -> None:
    await make_member("alice")
    await assert_problem(await client.get("/.well-known/webfinger"), 400, "bad-request")
    response = await client.get("/.well-known/webfinger", params={"resource": ""})
    await assert_problem(response, 400, "bad-request")
    for resource in (
        f"acct:bob@{HOST}",
        "acct:alice@elsewhere.example",
        f"acct:@{HOST}",
        "acct:alice",
        "https://elsewhere.example/users/alice",
        f"{BASE}/users/",
        "mailto:alice@example.org",
    ):
        response = await client.get("/.well-known/webfinger", params={"resource": resource})
        await assert_problem(response, 404, "not-found")


# --- NodeInfo and host-meta -------------------------------------------------------------


@pytest.mark.spec("NodeInfo 2.1")
async def test_nodeinfo(client: TestClient, ctx: NodeContext, make_member: MemberFactory) -> None:
    alice = await make_member("alice")
    await make_member("bob")
    await listings.create_listing(ctx, alice.member, listing_body())
    response = await client.get("/.well-known/nodeinfo")
    assert response.status == 200 and response.content_type == "application/json"
    [link] = (await response.json())["links"]
    assert link["rel"] == "http://nodeinfo.diaspora.software/ns/schema/2.1"
    assert link["href"] == f"{BASE}/nodeinfo/2.1"
    response = await client.get("/nodeinfo/2.1")
    assert response.status == 200
    assert response.headers["Content-Type"] == (
        'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"'
    )
    info = await response.json(content_type=None)
    assert info["version"] == "2.1"
    assert info["software"]["name"] == "kula"
    assert set(info["software"]) <= {"name", "version", "repository", "homepage"}
    assert info["protocols"] == ["activitypub"]
    assert info["services"] == {"inbound": [], "outbound": []}
    assert info["openRegistrations"] is True
    assert info["usage"]["users"]["total"] == 2
    assert info["usage"]["localPosts"] == 1
    assert info["metadata"]["nodeName"] == "Test community"


@pytest.mark.spec("RFC 6415 §3")
async def test_host_meta(client: TestClient) -> None:
    response = await client.get("/.well-known/host-meta")
    assert response.status == 200
    assert response.content_type == "application/xrd+xml"
    root = ET.fromstring(await response.text())
    assert root.tag == "{http://docs.oasis-open.org/ns/xri/xrd-1.0}XRD"
    [link] = list(root)
    assert link.get("rel") == "lrdd"
    assert link.get("template") == f"{BASE}/.well-known/webfinger?resource={{uri}}"


# --- actors -----------------------------------------------------------------------------


@pytest.mark.spec("ActivityPub §4.1")
async def test_member_actor(client: TestClient, make_member: MemberFactory) -> None:
    await make_member("alice")
    actor = await activity_json(client, "/users/alice", AP_TYPES[0])
    assert await activity_json(client, "/users/alice", AP_TYPES[1]) == actor
    validate(actor, "actor")
    assert actor["type"] == "Person" and actor["id"] == f"{BASE}/users/alice"
    assert actor["preferredUsername"] == "alice"
    for box in ("inbox", "outbox", "followers", "following"):
        assert actor[box] == f"{BASE}/users/alice/{box}"
    assert actor["publicKey"]["owner"] == actor["id"]
    load_pem_public_key(actor["publicKey"]["publicKeyPem"].encode())
    [method] = actor["assertionMethod"]
    assert method["type"] == "Multikey" and method["controller"] == actor["id"]
    multikey_decode(method["publicKeyMultibase"])


@pytest.mark.spec("ActivityPub §4.1")
async def test_node_actors(client: TestClient) -> None:
    community = await activity_json(client, "/users/community")
    validate(community, "actor")
    assert community["type"] == "Group" and community["name"] == "Test community"
    instance = await activity_json(client, "/actor")
    validate(instance, "actor")
    assert instance["type"] == "Application" and instance["id"] == f"{BASE}/actor"


@pytest.mark.spec("ActivityPub §4.1")
async def test_unknown_actors(client: TestClient, make_member: MemberFactory) -> None:
    await make_member("alice")
    for path in ("/users/bob", "/users/ALICE", "/users/bob/outbox", "/users/bob/followers"):
        await assert_problem(await client.get(path), 404, "not-found")


# --- outbox, collections, activities ----------------------------------------------------


@pytest.mark.spec("ActivityPub §5.1")
async def test_outbox_pages_through_every_activity(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    made = [
        await listings.create_listing(ctx, alice.member, listing_body(title=f"Item {n}"))
        for n in range(22)
    ]
    await listings.withdraw_listing(ctx, alice.member, made[0].id)
    await listings.delete_listing(ctx, alice.member, made[1].id)
    outbox = await activity_json(client, "/users/alice/outbox")
    validate(outbox, "collection")
    assert outbox["type"] == "OrderedCollection" and outbox["totalItems"] == 24
    page_url = outbox["first"]
    seen: list[dict[str, Any]] = []
    while page_url:
        page = await activity_json(client, page_url.removeprefix(BASE))
        validate(page, "collection-page")
        assert page["type"] == "OrderedCollectionPage"
        assert page["partOf"] == f"{BASE}/users/alice/outbox"
        seen += page["orderedItems"]
        page_url = page.get("next")
    assert len(seen) == 24 == len({item["id"] for item in seen})
    assert [item["type"] for item in seen[:2]] == ["Delete", "Update"]
    assert {item["type"] for item in seen[2:]} == {"Create"}
    for item in seen:
        validate(item, item["type"].lower())
        assert item["actor"] == f"{BASE}/users/alice"
    # Each activity is served at its own id.
    first = seen[0]
    alone = await activity_json(client, first["id"].removeprefix(BASE))
    assert "@context" in alone
    assert {key: value for key, value in alone.items() if key != "@context"} == first


@pytest.mark.spec("ActivityPub §5.1")
async def test_outbox_bad_cursor(client: TestClient, make_member: MemberFactory) -> None:
    await make_member("alice")
    for max_id in ("abc", "-1", "²", "9" * 40):
        response = await client.get("/users/alice/outbox", params={"max_id": max_id})
        await assert_problem(response, 422, "validation-failed")


@pytest.mark.spec("ActivityPub §5.3")
async def test_follow_collections_are_empty(client: TestClient, make_member: MemberFactory) -> None:
    await make_member("alice")
    for which in ("followers", "following"):
        collection = await activity_json(client, f"/users/alice/{which}")
        validate(collection, "collection")
        assert collection["totalItems"] == 0


@pytest.mark.spec("ActivityPub §3.2")
async def test_unknown_activity(client: TestClient) -> None:
    response = await client.get("/activities/01aaaaaaaaaaaaaaaaaaaaaaaa")
    await assert_problem(response, 404, "not-found")


@pytest.mark.spec("ActivityPub §3.2")
async def test_listing_object_and_tombstone(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    listing = await listings.create_listing(ctx, alice.member, listing_body())
    for accept in AP_TYPES:
        document = await activity_json(client, f"/listings/{listing.id}", accept)
        validate(document, "proposal")
        assert document["id"] == listing.iri
    await listings.delete_listing(ctx, alice.member, listing.id)
    response = await client.get(f"/listings/{listing.id}", headers={"Accept": AP_TYPES[0]})
    assert response.status == 410
    assert response.content_type == "application/activity+json"
    tombstone = await response.json(content_type=None)
    validate(tombstone, "tombstone")
    assert (tombstone["type"], tombstone["formerType"]) == ("Tombstone", "Proposal")


@pytest.mark.spec("JSON-LD 1.1 §9")
async def test_kula_context_is_served(client: TestClient) -> None:
    response = await client.get("/ns/v1")
    assert response.status == 200 and response.content_type == "application/ld+json"
    assert "@context" in await response.json(content_type=None)


@pytest.mark.spec("Kula operations: health")
async def test_health_and_readiness(client: TestClient, ctx: NodeContext) -> None:
    response = await client.get("/healthz")
    assert response.status == 200 and await response.json() == {"status": "ok"}
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response = await client.get("/readyz")
    assert response.status == 200 and await response.json() == {"status": "ready"}
    await ctx.storage.close()
    response = await client.get("/readyz")
    assert response.status == 503
    assert (await response.json())["status"] == "unavailable"
