"""Client API: listings (create, show, update, withdraw, delete, per member),
and the signed FEP-0837 Proposal each one is served as."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from conftest import MemberFactory
from conftest import TestMember as Caller
from helpers import (
    assert_problem,
    execute,
    json_body,
    listing_body,
    png_bytes,
    pointers,
    row_counts,
)

from node.services import images, listings
from node.services.context import NodeContext
from node.settings import Settings
from protocol.errors import ProofError
from protocol.multikey import multikey_decode
from protocol.proofs import verify_object
from protocol.validation import validate

AP = {"Accept": "application/activity+json"}


async def create(client: TestClient, member: Caller, **overrides: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/listings", json=listing_body(**overrides), headers=member.auth
    )
    return await json_body(response, 201, "api-listing")


async def served(client: TestClient, listing_id: str, status: int = 200) -> dict[str, Any]:
    response = await client.get(f"/listings/{listing_id}", headers=AP)
    assert response.status == status, await response.text()
    assert response.content_type == "application/activity+json"
    return await response.json(content_type=None)


async def assert_signed_by(client: TestClient, document: dict[str, Any], username: str) -> None:
    """The served document verifies against the author's published Multikey, and
    the same document with a tampered name does not."""
    actor = await (await client.get(f"/users/{username}", headers=AP)).json(content_type=None)
    [method] = actor["assertionMethod"]
    assert document["proof"]["verificationMethod"] == method["id"]
    key = multikey_decode(method["publicKeyMultibase"])
    verify_object(document, key)
    tampered = copy.deepcopy(document)
    tampered["name"] = tampered["name"] + " (cheap!)"
    with pytest.raises(ProofError):
        verify_object(tampered, key)


async def outbox_types(client: TestClient, username: str) -> list[str]:
    page = await (await client.get(f"/users/{username}/outbox?page=true")).json(
        content_type=None
    )
    return [item["type"] for item in page["orderedItems"]]


# --- create -----------------------------------------------------------------------------


@pytest.mark.spec("Kula API POST /api/v1/listings")
async def test_create_listing(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    response = await client.post("/api/v1/listings", json=listing_body(), headers=alice.auth)
    body = await json_body(response, 201, "api-listing")
    assert response.headers["Location"] == f"/api/v1/listings/{body['id']}"
    assert body["status"] == "available" and body["local"] is True
    assert body["author"] == "http://127.0.0.1:8080/users/alice"
    # Street precision keeps three decimals, before anything is stored or published.
    assert body["location"] == {"latitude": 52.52, "longitude": 13.405, "precision": "street"}
    assert body["expires_at"] > body["published"]
    shown = await json_body(await client.get(f"/api/v1/listings/{body['id']}"), 200,
                            "api-listing")
    assert shown == body
    document = await served(client, body["id"])
    validate(document, "proposal")
    assert document["id"] == body["iri"] and document["name"] == "Cordless drill"
    assert document["location"]["latitude"] == 52.52
    assert document["content"] == "<p>Works well.</p><p>Battery included.</p>"
    await assert_signed_by(client, document, "alice")
    assert await outbox_types(client, "alice") == ["Create"]


EVERY_MODE: list[dict[str, Any]] = [
    {"mode": "give", "price": None, "quantity": 3},
    {"mode": "rent", "price": {"amount": "5", "currency": "EUR", "per": "P1D"},
     "period": {"minimum": "P1D", "maximum": "P14D"}},
    {"mode": "swap", "price": None, "wanted": "A ladder"},
    {"mode": "lend", "price": None, "purpose": "request", "location": None,
     "availability": [{"start": "2031-01-01T10:00:00Z", "end": "2031-01-02T10:00:00Z"}]},
    {"mode": "share", "price": None, "location": {"latitude": 48.85661, "longitude": 2.35222,
                                                  "precision": "city", "name": "Paris"}},
    {"mode": "service", "price": {"amount": "20", "currency": "CHF", "per": "PT1H"},
     "description": "<script>alert(1)</script>"},
]


@pytest.mark.spec("FEP-0837 Proposal")
async def test_every_mode_is_published_signed(
    client: TestClient, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    for overrides in EVERY_MODE:
        body = await create(client, alice, **overrides)
        assert body["mode"] == overrides["mode"]
        document = await served(client, body["id"])
        validate(document, "proposal")
        assert "<script>" not in document["content"]
        await assert_signed_by(client, document, "alice")


@pytest.mark.spec("FEP-0837 Proposal")
async def test_rent_deposit_fits_the_proposal_schema(
    client: TestClient, make_member: MemberFactory
) -> None:
    """Other Kula nodes validate incoming Proposals against the same schema, so
    a deposit the schema refuses would make the listing undeliverable."""
    alice = await make_member("alice")
    body = await create(
        client, alice, mode="rent", price={"amount": "5", "currency": "EUR", "per": "P1D"},
        deposit={"amount": "50", "currency": "EUR"},
    )
    assert body["deposit"] == {"amount": "50", "currency": "EUR"}
    document = await served(client, body["id"])
    assert document["deposit"]["hasNumericalValue"] == "50"
    validate(document, "proposal")


# Mode rules may be caught by the schema (pointing at the document root) or by
# the listing service (pointing at the field): either way, nothing is stored.
ROOT_OR = ("",)

BAD_BODIES: list[tuple[dict[str, Any], str | tuple[str, ...]]] = [
    (listing_body(title=None), ""),
    (listing_body(purpose=None), ""),
    (listing_body(mode=None), ""),
    ({**listing_body(), "owner": "bob"}, ""),
    (listing_body(title="   "), "/title"),
    # U+0000 is refused on SQLite too, where it could be stored: PostgreSQL
    # nodes (and other servers) would refuse the listing when it federates.
    (listing_body(title="Two\u0000chairs"), "/title"),
    (listing_body(categories=["tools", "gar\u0000den"]), "/categories/1"),
    ({**listing_body(), "no\u0000te": "x"}, "/no\u0000te"),
    (listing_body(title="x" * 201), "/title"),
    (listing_body(title=42), "/title"),
    (listing_body(purpose="borrow"), "/purpose"),
    (listing_body(mode="auction"), "/mode"),
    (listing_body(quantity=0), "/quantity"),
    (listing_body(quantity="2"), "/quantity"),
    (listing_body(categories=["Tools"]), "/categories/0"),
    (listing_body(categories=["a", "a"]), "/categories"),
    (listing_body(categories="tools"), "/categories"),
    (listing_body(price={"amount": "-1", "currency": "EUR"}), "/price/amount"),
    (listing_body(price={"amount": 25, "currency": "EUR"}), "/price/amount"),
    (listing_body(price={"amount": "25", "currency": "eur"}), "/price/currency"),
    (listing_body(price={"amount": "25"}), "/price"),
    (listing_body(price=None), ("/price", *ROOT_OR)),
    (listing_body(mode="give"), ("/price", *ROOT_OR)),
    (listing_body(mode="swap", price=None), ("/wanted", *ROOT_OR)),
    (listing_body(mode="swap", wanted="A ladder"), ("/price", *ROOT_OR)),
    (listing_body(wanted="A ladder"), "/wanted"),
    (listing_body(mode="rent"), ("/price/per", "/price", *ROOT_OR)),
    (listing_body(price={"amount": "1", "currency": "EUR", "per": "daily"}), "/price/per"),
    (listing_body(availability=[{"start": "2031-01-02T00:00:00Z",
                                 "end": "2031-01-01T00:00:00Z"}]), "/availability/0/end"),
    (listing_body(availability=[{"start": "2031-01-01T00:00:00"}]), "/availability/0"),
    (listing_body(expires_at="2001-01-01T00:00:00Z"), "/expires_at"),
    (listing_body(expires_at="2031-01-01 10:00"), "/expires_at"),
    (listing_body(location={"latitude": 91, "longitude": 0, "precision": "city"}),
     "/location/latitude"),
    (listing_body(location={"latitude": 1, "longitude": 0, "precision": "house"}),
     "/location/precision"),
    (listing_body(images=["not-an-id"]), "/images/0"),
    (listing_body(images=["01aaaaaaaaaaaaaaaaaaaaaaaa"]), "/images/0"),
    (listing_body(description="x" * 10_001), "/description"),
]


@pytest.mark.spec("Kula API POST /api/v1/listings")
async def test_create_rejects_bad_bodies(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    before = await row_counts(ctx)
    for body, pointer in BAD_BODIES:
        response = await client.post("/api/v1/listings", json=body, headers=alice.auth)
        problem = await assert_problem(response, 422, "validation-failed")
        acceptable = {pointer} if isinstance(pointer, str) else set(pointer)
        assert acceptable & pointers(problem), (body, problem)
    assert await row_counts(ctx) == before


@pytest.mark.spec("Kula API POST /api/v1/listings")
async def test_create_refuses_someone_elses_image(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    bob = await make_member("bob")
    picture = await images.store_image(ctx, bob.member, png_bytes())
    before = await row_counts(ctx)
    response = await client.post(
        "/api/v1/listings", json=listing_body(images=[picture.id]), headers=alice.auth
    )
    problem = await assert_problem(response, 422, "validation-failed")
    assert "/images/0" in pointers(problem)
    assert await row_counts(ctx) == before


@pytest.mark.spec("RFC 9457 §3")
async def test_create_rejects_unreadable_requests(
    client: TestClient, ctx: NodeContext, settings: Settings, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    reader = await make_member("bob", scope="read")
    before = await row_counts(ctx)
    json_type = {**alice.auth, "Content-Type": "application/json"}
    cases = [
        (b'{"title": ', json_type, 400, "malformed-json"),
        (b'{"title": NaN}', json_type, 400, "malformed-json"),
        (b"", json_type, 400, "bad-request"),
        (b"title=x", {**alice.auth, "Content-Type": "application/x-www-form-urlencoded"},
         415, "unsupported-media-type"),
        (b'{"title": "' + b"x" * settings.max_body_bytes + b'"}', json_type,
         413, "payload-too-large"),
        (b"{}", {"Content-Type": "application/json"}, 401, "unauthorized"),
        (b"{}", {**reader.auth, "Content-Type": "application/json"}, 403, "forbidden"),
    ]
    for data, headers, status, slug in cases:
        response = await client.post("/api/v1/listings", data=data, headers=headers)
        await assert_problem(response, status, slug)
    assert await row_counts(ctx) == before


# --- show, update, withdraw, delete -----------------------------------------------------


@pytest.mark.spec("Kula API GET /api/v1/listings/{id}")
async def test_unknown_listing(client: TestClient) -> None:
    for path in ("/api/v1/listings/01aaaaaaaaaaaaaaaaaaaaaaaa", "/api/v1/listings/..%2fetc",
                 "/listings/01aaaaaaaaaaaaaaaaaaaaaaaa"):
        await assert_problem(await client.get(path), 404, "not-found")


@pytest.mark.spec("Kula API PATCH /api/v1/listings/{id}")
async def test_update_listing(client: TestClient, make_member: MemberFactory) -> None:
    alice = await make_member("alice")
    created = await create(client, alice)
    response = await client.patch(
        f"/api/v1/listings/{created['id']}",
        json={"title": "Cordless drill, 2 batteries", "mode": "give", "price": None,
              "categories": None, "status": "reserved"},
        headers=alice.auth,
    )
    body = await json_body(response, 200, "api-listing")
    assert body["title"] == "Cordless drill, 2 batteries"
    assert (body["mode"], body["price"], body["categories"]) == ("give", None, [])
    assert body["status"] == "reserved" and body["published"] == created["published"]
    document = await served(client, created["id"])
    assert document["listingStatus"] == "reserved" and "reciprocal" not in document
    await assert_signed_by(client, document, "alice")
    assert await outbox_types(client, "alice") == ["Update", "Create"]


@pytest.mark.spec("Kula API PATCH /api/v1/listings/{id}")
async def test_update_rejects_bad_bodies(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    created = await create(client, alice)
    before = await row_counts(ctx)
    path = f"/api/v1/listings/{created['id']}"
    for body, pointer in [
        ({}, ""),
        ({"id": "x"}, ""),
        ({"status": "expired"}, "/status"),
        ({"title": None}, "/title"),
        ({"mode": None}, "/mode"),
        ({"price": None}, "/price"),  # a sale needs a price
        ({"mode": "swap"}, "/wanted"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, "/expires_at"),
        ({"quantity": -1}, "/quantity"),
    ]:
        response = await client.patch(path, json=body, headers=alice.auth)
        problem = await assert_problem(response, 422, "validation-failed")
        assert pointer in pointers(problem), (body, problem)
    response = await client.patch(
        path, data=b"{", headers={**alice.auth, "Content-Type": "application/json"}
    )
    await assert_problem(response, 400, "malformed-json")
    assert await row_counts(ctx) == before
    assert await json_body(await client.get(path), 200, "api-listing") == created


@pytest.mark.spec("Kula API /api/v1/listings/{id}")
async def test_changes_need_the_author(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    bob = await make_member("bob")
    reader = await make_member("carol", scope="read")
    created = await create(client, alice)
    path = f"/api/v1/listings/{created['id']}"
    calls = [
        ("PATCH", path, {"title": "Mine now"}),
        ("POST", f"{path}/withdrawal", None),
        ("DELETE", path, None),
    ]
    before = await row_counts(ctx)
    for method, url, body in calls:
        response = await client.request(method, url, json=body, headers=bob.auth)
        await assert_problem(response, 403, "forbidden")
        response = await client.request(method, url, json=body, headers=reader.auth)
        await assert_problem(response, 403, "forbidden")
        await assert_problem(await client.request(method, url, json=body), 401, "unauthorized")
        missing = url.replace(created["id"], "01aaaaaaaaaaaaaaaaaaaaaaaa")
        response = await client.request(method, missing, json=body, headers=alice.auth)
        await assert_problem(response, 404, "not-found")
    assert await row_counts(ctx) == before
    assert await json_body(await client.get(path), 200, "api-listing") == created


@pytest.mark.spec("Kula API POST /api/v1/listings/{id}/withdrawal")
async def test_withdraw(client: TestClient, ctx: NodeContext, make_member: MemberFactory) -> None:
    alice = await make_member("alice")
    created = await create(client, alice)
    path = f"/api/v1/listings/{created['id']}/withdrawal"
    body = await json_body(await client.post(path, headers=alice.auth), 200, "api-listing")
    assert body["status"] == "withdrawn"
    document = await served(client, created["id"])
    assert document["listingStatus"] == "withdrawn"
    await assert_signed_by(client, document, "alice")
    before = await row_counts(ctx)
    await assert_problem(await client.post(path, headers=alice.auth), 409, "conflict")
    assert await row_counts(ctx) == before
    # Withdrawn listings leave the default search.
    found = await (await client.get("/api/v1/search")).json()
    assert found["items"] == []


@pytest.mark.spec("ActivityPub §6.4")
async def test_delete_leaves_a_tombstone(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    created = await create(client, alice)
    kept = await create(client, alice, title="Ladder")
    path = f"/api/v1/listings/{created['id']}"
    response = await client.delete(path, headers=alice.auth)
    assert response.status == 204
    await assert_problem(await client.get(path), 410, "gone")
    tombstone = await served(client, created["id"], status=410)
    validate(tombstone, "tombstone")
    assert tombstone["type"] == "Tombstone" and tombstone["id"] == created["iri"]
    assert "name" not in tombstone and "location" not in tombstone
    assert await outbox_types(client, "alice") == ["Delete", "Create", "Create"]

    before = await row_counts(ctx)
    for method, url, body in [
        ("DELETE", path, None),
        ("PATCH", path, {"title": "Back"}),
        ("POST", f"{path}/withdrawal", None),
    ]:
        response = await client.request(method, url, json=body, headers=alice.auth)
        await assert_problem(response, 410, "gone")
    assert await row_counts(ctx) == before
    found = await (await client.get("/api/v1/search", params={"status": "any"})).json()
    assert [item["id"] for item in found["items"]] == [kept["id"]]
    own = await (await client.get("/api/v1/members/alice/listings")).json()
    assert [item["id"] for item in own["items"]] == [kept["id"]]


# --- a member's listings ----------------------------------------------------------------


@pytest.mark.spec("Kula API GET /api/v1/members/{username}/listings")
async def test_member_listings_pages_without_gaps(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    bob = await make_member("bob")
    made = [
        (await listings.create_listing(ctx, alice.member, listing_body(title=f"Item {n}"))).id
        for n in range(23)
    ]
    await listings.create_listing(ctx, bob.member, listing_body(title="Bob's"))
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"cursor": cursor} if cursor else {}
        response = await client.get("/api/v1/members/alice/listings", params=params)
        page = await json_body(response, 200, "api-listing-page")
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 2
    assert seen == list(reversed(made))


@pytest.mark.spec("Kula API GET /api/v1/members/{username}/listings")
async def test_member_listings_bad_input(client: TestClient, make_member: MemberFactory) -> None:
    await make_member("alice")
    await assert_problem(await client.get("/api/v1/members/nobody/listings"), 404, "not-found")
    for cursor in ("abc", "-1", "1.5", "²", "9" * 40):
        response = await client.get("/api/v1/members/alice/listings", params={"cursor": cursor})
        problem = await assert_problem(response, 422, "validation-failed")
        assert "/cursor" in pointers(problem)


@pytest.mark.spec("Kula API PATCH /api/v1/listings/{id}")
async def test_expired_listing_is_renewed_by_a_new_expiry(
    client: TestClient, ctx: NodeContext, make_member: MemberFactory
) -> None:
    alice = await make_member("alice")
    created = await create(client, alice)
    await execute(ctx, "UPDATE listings SET status = 'expired' WHERE id = ?", (created["id"],))
    path = f"/api/v1/listings/{created['id']}"
    response = await client.patch(path, json={"title": "Still here"}, headers=alice.auth)
    assert (await json_body(response, 200, "api-listing"))["status"] == "expired"
    response = await client.patch(
        path, json={"expires_at": "2031-06-01T00:00:00Z"}, headers=alice.auth
    )
    body = await json_body(response, 200, "api-listing")
    assert (body["status"], body["expires_at"]) == ("available", "2031-06-01T00:00:00Z")
    await assert_signed_by(client, await served(client, created["id"]), "alice")
