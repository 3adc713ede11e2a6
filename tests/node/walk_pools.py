"""The pooled-pledge part of the OpenAPI walk (test_openapi_walk.py): every
pool operation called, its answers and refusals checked against the document."""

from __future__ import annotations

from typing import Any

from conftest import TestMember as Caller
from helpers import listing_body

from node.timeutil import later_text

LISTING = "/api/v1/listings/{listing_id}"


async def walk_pools(api: Any, admin: Caller, bob: dict[str, str]) -> None:
    pool = await api.call("POST", "/api/v1/listings", headers=admin.auth, expect=201,
                          json=listing_body(title="Bulk flour", mode="give", price=None,
                                            pool={"goal": {"kind": "quantity", "amount": "25",
                                                           "unit": "kilogram"},
                                                  "deadline": later_text(days=7),
                                                  "receives": "Flour at cost",
                                                  "maximum_pledge": "10"}))
    ids = {"listing_id": pool["id"]}
    await api.call("GET", f"{LISTING}/pool", path=ids, expect=200)
    await api.call("GET", f"{LISTING}/pool", path={"listing_id": "nope"}, expect=404)
    pledges = f"{LISTING}/pledges"
    made = await api.call("POST", pledges, path=ids, headers=bob, json={"amount": "5"},
                          expect=201)
    await api.call("POST", pledges, path=ids, headers=bob, json={"amount": "5"}, expect=409)
    await api.call("POST", pledges, path=ids, headers=admin.auth, json={"amount": "5"},
                   expect=403)
    await api.call("POST", pledges, path=ids, headers=bob, json={"amount": "x"}, expect=422)
    shown = await api.call("GET", f"{LISTING}/pool", path=ids, headers=bob, expect=200)
    assert shown["pledged"] == "5" and shown["your_pledges"][0]["id"] == made["id"]
    one = f"{pledges}/{{pledge_id}}"
    await api.call("DELETE", one, path={**ids, "pledge_id": made["id"]}, headers=bob,
                   expect=200)
    await api.call("DELETE", one, path={**ids, "pledge_id": made["id"]}, headers=bob,
                   expect=409)
    await api.call("DELETE", one, path={**ids, "pledge_id": "nope"}, headers=bob, expect=404)
    await api.call("DELETE", LISTING, path=ids, headers=admin.auth, expect=204)
    await api.call("GET", f"{LISTING}/pool", path=ids, expect=410)
    await api.call("POST", pledges, path=ids, headers=bob, json={"amount": "5"}, expect=410)
