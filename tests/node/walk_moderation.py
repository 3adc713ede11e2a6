"""The community-settings and reports part of the OpenAPI walk
(test_openapi_walk.py): every operation called, answers and refusals checked
against the document."""

from __future__ import annotations

from typing import Any

from conftest import TestMember as Caller
from helpers import listing_body

COMMUNITY = "/api/v1/admin/community"
RESOLVE = "/api/v1/admin/reports/{report_id}/resolve"


async def walk_moderation(api: Any, admin: Caller, bob: dict[str, str]) -> None:
    await api.call("GET", COMMUNITY, headers=admin.auth, expect=200)
    await api.call("GET", COMMUNITY, headers=bob, expect=403)
    changed = await api.call("PATCH", COMMUNITY, headers=admin.auth, expect=200,
                             json={"rules": "Be kind.", "registration": "invite"})
    assert changed["overridden"] == ["registration", "rules"]
    await api.call("PATCH", COMMUNITY, headers=admin.auth, json={"registration": "maybe"},
                   expect=422)
    await api.call("PATCH", COMMUNITY, headers=admin.auth, expect=200,
                   json={"registration": None, "rules": None})

    listing = await api.call("POST", "/api/v1/listings", headers=admin.auth, expect=201,
                             json=listing_body(title="Suspicious phones"))
    report = {"kind": "listing", "target": listing["iri"], "reason": "fraud",
              "comment": "Far too cheap."}
    filed = await api.call("POST", "/api/v1/reports", headers=bob, json=report, expect=201)
    assert filed["state"] == "open" and "hide" in filed["actions"]
    await api.call("POST", "/api/v1/reports", headers=bob, json=report, expect=409)
    await api.call("POST", "/api/v1/reports", headers=bob, expect=404,
                   json={**report, "target": listing["iri"] + "x"})
    await api.call("POST", "/api/v1/reports", headers=bob, json={**report, "kind": "post"},
                   expect=422)
    await api.call("GET", "/api/v1/admin/reports", headers=admin.auth, expect=200)
    await api.call("GET", "/api/v1/admin/reports", headers=admin.auth,
                   params={"state": "all"}, expect=200)
    await api.call("GET", "/api/v1/admin/reports", headers=admin.auth,
                   params={"state": "lost"}, expect=422)
    await api.call("GET", "/api/v1/admin/reports", headers=bob, expect=403)
    ids = {"report_id": filed["id"]}
    await api.call("POST", RESOLVE, path=ids, headers=admin.auth, json={"action": "block"},
                   expect=409)  # the listing is this node's: no host to block
    hidden = await api.call("POST", RESOLVE, path=ids, headers=admin.auth, expect=200,
                            json={"action": "hide", "note": "Withdrawn pending a check."})
    assert hidden["state"] == "resolved" and hidden["actions"] == []
    await api.call("POST", RESOLVE, path=ids, headers=admin.auth, json={"action": "dismiss"},
                   expect=409)
    await api.call("POST", RESOLVE, path={"report_id": "nope"}, headers=admin.auth,
                   json={"action": "dismiss"}, expect=404)
