"""The exchange, attestation and reputation part of the OpenAPI walk
(test_openapi_walk.py): every operation called, every answer checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import TestMember as Caller
from helpers import listing_body

ONE = "/api/v1/exchanges/{exchange_id}"


def _day(offset: int) -> str:
    moment = datetime.now(UTC).replace(microsecond=0) + timedelta(days=offset)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def _listing(api: Any, admin: Caller, **overrides: Any) -> dict[str, Any]:
    return await api.call("POST", "/api/v1/listings", headers=admin.auth, expect=201,
                          json=listing_body(**overrides))


async def _offer(api: Any, bob: dict[str, str], listing: dict[str, Any], **terms: Any) -> dict:
    return await api.call("POST", "/api/v1/exchanges", headers=bob, expect=201,
                          json={"listing": listing["id"], **terms})


async def _move(api: Any, who: dict[str, str], exchange: dict, action: str, *, expect: int = 200,
                **body: Any) -> Any:
    return await api.call("POST", f"{ONE}/{action}", path={"exchange_id": exchange["id"]},
                          headers=who, json=body or None, expect=expect)


async def walk_exchanges(api: Any, admin: Caller, bob: dict[str, str]) -> None:
    sale = await _listing(api, admin, title="Sewing machine")
    deal = await _offer(api, bob, sale)
    await api.call("GET", "/api/v1/exchanges", headers=bob, expect=200)
    await api.call("GET", ONE, path={"exchange_id": deal["id"]}, headers=admin.auth, expect=200)
    await api.call("GET", ONE, path={"exchange_id": "nope"}, headers=bob, expect=404)
    await _move(api, bob, deal, "accept", expect=409)
    await api.call("POST", f"{ONE}/counter", path={"exchange_id": deal["id"]},
                   headers=admin.auth, json={"price": "20.00"}, expect=200)
    await _move(api, bob, deal, "accept")
    messages = f"{ONE}/messages"
    await api.call("POST", messages, path={"exchange_id": deal["id"]}, headers=bob,
                   json={"content": "Thanks!"}, expect=201)
    await api.call("GET", messages, path={"exchange_id": deal["id"]}, headers=admin.auth,
                   expect=200)
    await _move(api, admin.auth, deal, "handover")
    await _move(api, admin.auth, deal, "complete")
    await _move(api, bob, deal, "complete")
    attest = f"{ONE}/attestation"
    given = await api.call("POST", attest, path={"exchange_id": deal["id"]}, headers=bob,
                           json={"rating": 5, "comment": "Great"}, expect=201)
    await api.call("POST", attest, path={"exchange_id": deal["id"]}, headers=admin.auth,
                   json={"rating": 4}, expect=201)
    await api.call("POST", "/api/v1/attestation-replies", headers=admin.auth, expect=201,
                   json={"attestation": given["iri"], "content": "Thank you!"})
    await api.call("POST", "/api/v1/attestation-replies", headers=bob, expect=404,
                   json={"attestation": given["iri"], "content": "Not mine to answer"})
    withdraw = "/api/v1/attestations/{attestation_id}"
    attestation_id = {"attestation_id": given["iri"].rsplit("/", 1)[-1]}
    await api.call("DELETE", withdraw, path=attestation_id, headers=bob, expect=204)
    await api.call("DELETE", withdraw, path=attestation_id, headers=bob, expect=409)
    await api.call("GET", "/api/v1/members/{username}/attestations",
                   path={"username": admin.member.username}, expect=200)
    await api.call("GET", "/api/v1/reputation", params={"actor": given["subject"]}, expect=200)
    await api.call("GET", "/api/v1/reputation", expect=422)
    # A move needs the target to list this account as an alias first.
    await api.call("POST", "/api/v1/me/move", headers=bob, json={"target": given["subject"]},
                   expect=403)
    notes = await api.call("GET", "/api/v1/notifications", headers=admin.auth, expect=200)
    await api.call("POST", "/api/v1/notifications/read", headers=admin.auth,
                   json={"up_to": max((n["id"] for n in notes["items"]), default=0)},
                   expect=200)

    gift = await _listing(api, admin, title="Toy box", mode="give", price=None)
    refused = await _offer(api, bob, gift)
    await _move(api, admin.auth, refused, "reject", content="Promised to a neighbour")
    withdrawn = await _offer(api, bob, await _listing(api, admin, title="Books", mode="give",
                                                      price=None))
    await _move(api, bob, withdrawn, "withdraw")

    loan = await _offer(api, bob, await _listing(api, admin, title="Ladder", mode="lend",
                                                 price=None), start=_day(2), end=_day(4))
    await _move(api, admin.auth, loan, "accept")
    await _move(api, admin.auth, loan, "handover")
    await _move(api, bob, loan, "return")
    await _move(api, bob, loan, "dispute", content="It came back scratched")
    await _move(api, admin.auth, loan, "cancel", content="Settled between us")

    missed = await _offer(api, bob, await _listing(api, admin, title="Lamp", mode="give",
                                                   price=None))
    await _move(api, admin.auth, missed, "accept")
    await _move(api, admin.auth, missed, "no-show")
