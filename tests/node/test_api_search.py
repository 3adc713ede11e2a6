"""Client API: listing search over HTTP. The filters themselves are checked in
depth against storage in test_storage.py; here, the query parameters, the
response shape and every refused parameter."""

from __future__ import annotations

import base64
import json

import pytest
from aiohttp.test_utils import TestClient
from conftest import MemberFactory
from helpers import assert_problem, json_body, listing_body, pointers

from node.services import listings
from node.services.context import NodeContext

BERLIN = {"latitude": 52.52, "longitude": 13.405, "precision": "exact"}
POTSDAM = {"latitude": 52.39, "longitude": 13.065, "precision": "exact"}


def cursor_of(value: object) -> str:
    raw = json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.fixture
async def three_listings(ctx: NodeContext, make_member: MemberFactory) -> list[str]:
    alice = await make_member("alice")
    made = [
        await listings.create_listing(ctx, alice.member, listing_body(
            title="Cordless drill", location=BERLIN)),
        await listings.create_listing(ctx, alice.member, listing_body(
            title="Drill bits", mode="give", price=None, location=POTSDAM,
            categories=["tools", "diy"])),
        await listings.create_listing(ctx, alice.member, listing_body(
            title="Sofa", purpose="request", mode="lend", price=None, location=None,
            categories=["furniture"])),
    ]
    return [listing.id for listing in made]


async def search(client: TestClient, **params: str) -> dict:
    response = await client.get("/api/v1/search", params=params)
    return await json_body(response, 200, "api-listing-page")


def ids(page: dict) -> list[str]:
    return [item["id"] for item in page["items"]]


@pytest.mark.spec("Kula API GET /api/v1/search")
async def test_search_filters_and_shape(client: TestClient, three_listings: list[str]) -> None:
    drill, bits, sofa = three_listings
    assert ids(await search(client)) == [sofa, bits, drill]
    assert set(ids(await search(client, q="drill"))) == {drill, bits}
    assert ids(await search(client, q="dril")) != []  # the last word matches as a prefix
    assert ids(await search(client, purpose="request")) == [sofa]
    assert ids(await search(client, mode="give")) == [bits]
    assert ids(await search(client, category="tools")) == [bits, drill]
    assert ids(await search(client, currency="eur")) == [drill]
    near = await search(client, lat="52.52", lon="13.405", radius_km="5")
    assert ids(near) == [drill]
    assert near["items"][0]["distance_km"] == 0.0
    by_distance = await search(client, lat="52.52", lon="13.405", sort="distance")
    assert ids(by_distance) == [drill, bits, sofa]
    assert 20 < by_distance["items"][1]["distance_km"] < 30
    assert by_distance["items"][2]["distance_km"] is None


@pytest.mark.spec("Kula API GET /api/v1/search")
async def test_search_pages_with_cursor(client: TestClient, three_listings: list[str]) -> None:
    first = await search(client, limit="2")
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = await search(client, limit="2", cursor=first["next_cursor"])
    assert second["next_cursor"] is None
    assert ids(first) + ids(second) == list(reversed(three_listings))


BAD_PARAMETERS: list[tuple[dict[str, str], str]] = [
    ({"q": "x" * 201}, "/q"),
    ({"limit": "ten"}, "/limit"),
    ({"limit": "0"}, "/limit"),
    ({"limit": "101"}, "/limit"),
    ({"lat": "91", "lon": "0"}, "/lat"),
    ({"lat": "nan", "lon": "0"}, "/lat"),
    ({"lat": "52.5"}, "/lat"),
    ({"lat": "1", "lon": "181"}, "/lon"),
    ({"radius_km": "5"}, "/radius_km"),
    ({"lat": "1", "lon": "1", "radius_km": "0"}, "/radius_km"),
    ({"status": "sold"}, "/status"),
    ({"sort": "price"}, "/sort"),
    ({"sort": "distance"}, "/sort"),
    ({"purpose": "borrow"}, "/purpose"),
    ({"mode": "auction"}, "/mode"),
    ({"currency": "EURO"}, "/currency"),
    ({"currency": "E1R"}, "/currency"),
    ({"category": ""}, "/category"),
    ({"category": "x" * 41}, "/category"),
    ({"min_price": "-1"}, "/min_price"),
    ({"max_price": "cheap"}, "/max_price"),
    ({"cursor": "!!!"}, "/cursor"),
    ({"cursor": cursor_of({"a": 1})}, "/cursor"),
    ({"cursor": cursor_of([1])}, "/cursor"),
    ({"cursor": cursor_of(None)}, "/cursor"),
    ({"cursor": cursor_of([1, 2, 3])}, "/cursor"),
    ({"cursor": cursor_of([1, 10**30])}, "/cursor"),
    ({"cursor": cursor_of([1, 1e300 * 10])}, "/cursor"),
    ({"cursor": base64.urlsafe_b64encode(b"\xff\xfe").decode()}, "/cursor"),
]


@pytest.mark.spec("Kula API GET /api/v1/search")
async def test_search_rejects_bad_parameters(client: TestClient) -> None:
    for params, pointer in BAD_PARAMETERS:
        response = await client.get("/api/v1/search", params=params)
        problem = await assert_problem(response, 422, "validation-failed")
        assert pointers(problem) == {pointer}, (params, problem)


@pytest.mark.spec("Kula API GET /api/v1/search")
async def test_search_text_cannot_break_the_query(
    client: TestClient, three_listings: list[str]
) -> None:
    for text in ('"', "drill OR", "NEAR(a b)", "*", "title:sofa", "-drill", "'; DROP TABLE"):
        await search(client, q=text)
