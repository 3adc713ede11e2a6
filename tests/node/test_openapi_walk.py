"""A walk through the whole API: every documented operation is called at least
once and every answer (status, content type, headers, body) must be one the
OpenAPI document describes. Nothing here reaches another server."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import ClientResponse, FormData
from aiohttp.test_utils import TestClient
from conftest import TEST_PASSWORD, MemberFactory
from conftest import TestMember as Caller
from helpers import listing_body, png_bytes
from jsonschema import Draft202012Validator
from test_openapi import fetch_document, resolve
from walk_exchanges import walk_exchanges
from walk_moderation import walk_moderation
from walk_pools import walk_pools
from walk_social import walk_questions, walk_vouches


class ApiWalk:
    """Calls the API by operation and checks each answer against the document."""

    def __init__(self, client: TestClient, document: dict[str, Any]) -> None:
        self.client = client
        self.document = document
        self.seen: set[tuple[str, str]] = set()

    async def call(
        self, method: str, template: str, *, expect: int, **kwargs: Any
    ) -> Any:
        path_values = kwargs.pop("path", {})
        response = await self.client.request(
            method, template.format(**path_values), **kwargs
        )
        body = await self.conform(method, template, response)
        assert response.status == expect, body
        self.seen.add((method, template))
        return body

    async def conform(self, method: str, template: str, response: ClientResponse) -> Any:
        operation = self.document["paths"][template][method.lower()]
        documented = operation["responses"].get(str(response.status))
        text = await response.text()
        assert documented is not None, f"{method} {template}: undocumented {response.status}"
        if "$ref" in documented:
            documented = resolve(self.document, documented["$ref"])
        for header in documented.get("headers", {}):
            if header != "Retry-After" or response.status == 429:
                assert header in response.headers, f"{method} {template}: no {header}"
        content = documented.get("content")
        if content is None:
            assert text == "", f"{method} {template}: {response.status} should have no body"
            return None
        assert response.content_type in content, (method, template, response.content_type)
        body = await response.json(content_type=None)
        schema = content[response.content_type]["schema"]
        # The document is the root resource, so "#/components/..." resolves in it.
        validator = Draft202012Validator({**schema, "components": self.document["components"]})
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
        assert errors == [], f"{method} {template} {response.status}: {errors}"
        return body


HOST = "127.0.0.1:8080"  # the test node's public host (see conftest.make_settings)


async def walk_accounts(api: ApiWalk, reader: Caller) -> dict[str, str]:
    """Sign-up, sessions, profile, password and tokens; returns bob's session auth."""
    members = "/api/v1/members"
    new = {"username": "bob", "password": TEST_PASSWORD}
    await api.call("POST", members, json=new, expect=201)
    await api.call("POST", members, json=new, expect=409)
    await api.call("POST", members, json={"username": "Bob!"}, expect=422)
    await api.call("POST", members, data="{}", headers={"Content-Type": "text/plain"}, expect=415)
    await api.call("POST", members, data=b"{", headers={"Content-Type": "application/json"},
                   expect=400)
    await api.call("GET", members + "/{username}", path={"username": "bob"}, expect=200)
    await api.call("GET", members + "/{username}", path={"username": "nobody"}, expect=404)
    await api.call("POST", "/api/v1/sessions", json={**new, "password": "wrong password"},
                   expect=401)
    session = await api.call("POST", "/api/v1/sessions", json=new, expect=201)
    bob = {"Authorization": f"Bearer {session['token']}"}
    await api.call("GET", "/api/v1/me", headers={"Authorization": "Bearer nope"}, expect=401)
    await api.call("GET", "/api/v1/me", headers=bob, expect=200)
    await api.call("PATCH", "/api/v1/me", json={"display_name": "Bob"}, headers=bob, expect=200)
    await api.call("PATCH", "/api/v1/me", json={"summary": "x"}, headers=reader.auth, expect=403)
    exported = await api.call("GET", "/api/v1/me/export", headers=bob, expect=200)
    assert exported["profile"]["display_name"] == "Bob"
    await api.call("GET", "/api/v1/me/export", headers={"Authorization": "Bearer x"}, expect=401)
    await api.call("POST", "/api/v1/me/password", headers=bob, expect=204,
                   json={"current_password": TEST_PASSWORD, "new_password": TEST_PASSWORD + "!"})
    await api.call("GET", "/api/v1/tokens", headers=bob, expect=200)
    await api.call("POST", "/api/v1/tokens", json={"name": "x", "scope": "admin"}, headers=bob,
                   expect=403)
    token = await api.call("POST", "/api/v1/tokens", json={"name": "ci"}, headers=bob, expect=201)
    tokens = "/api/v1/tokens/{token_id}"
    await api.call("DELETE", tokens, path={"token_id": token["id"]}, headers=bob, expect=204)
    await api.call("DELETE", tokens, path={"token_id": token["id"] + "x"}, headers=bob,
                   expect=404)
    return bob


async def walk_admin(api: ApiWalk, admin: Caller, bob: dict[str, str]) -> None:
    invite = await api.call("POST", "/api/v1/admin/invites", json={"note": "for carol"},
                            headers=admin.auth, expect=201)
    await api.call("GET", "/api/v1/admin/invites", headers=admin.auth, expect=200)
    await api.call("GET", "/api/v1/admin/invites", headers=bob, expect=403)
    await api.call("DELETE", "/api/v1/admin/invites/{invite_id}", path={"invite_id": invite["id"]},
                   headers=admin.auth, expect=204)
    await api.call("GET", "/api/v1/admin/members", headers=admin.auth, expect=200)
    suspension = "/api/v1/admin/members/{username}/suspension"
    for method in ("POST", "DELETE"):
        await api.call(method, suspension, path={"username": "bob"}, headers=admin.auth,
                       expect=200)
    await api.call("POST", suspension, path={"username": "nobody"}, headers=admin.auth,
                   expect=404)


async def walk_listings(api: ApiWalk, admin: Caller, bob: dict[str, str]) -> None:
    """Images and listings, from upload to deletion."""
    form = FormData()
    form.add_field("file", png_bytes(), filename="a.png", content_type="image/png")
    image = await api.call("POST", "/api/v1/images", data=form, headers=bob, expect=201)
    await api.call("POST", "/api/v1/images", data=b"not an image",
                   headers={**bob, "Content-Type": "image/png"}, expect=415)
    one_image = "/api/v1/images/{image_id}"
    await api.call("GET", one_image, path={"image_id": image["id"]}, headers=bob, expect=200)
    listing = await api.call("POST", "/api/v1/listings", headers=bob, expect=201,
                             json=listing_body(images=[image["id"]]))
    await api.call("POST", "/api/v1/listings", json=listing_body(price=None), headers=bob,
                   expect=422)
    await api.call("DELETE", one_image, path={"image_id": image["id"]}, headers=bob, expect=409)
    one = "/api/v1/listings/{listing_id}"
    ids = {"listing_id": listing["id"]}
    await api.call("GET", one, path=ids, expect=200)
    await api.call("GET", one + "/replies", path=ids, expect=200)
    await api.call("PATCH", one, path=ids, json={"title": "Drill"}, headers=bob, expect=200)
    await api.call("PATCH", one, path=ids, json={"title": "Mine"}, headers=admin.auth, expect=403)
    by_member = "/api/v1/members/{username}/listings"
    await api.call("GET", by_member, path={"username": "bob"}, expect=200)
    await api.call("GET", by_member, path={"username": "bob"}, params={"cursor": "x"}, expect=422)
    await api.call("GET", "/api/v1/search", params={"q": "drill", "lat": "52.5", "lon": "13.4"},
                   expect=200)
    await api.call("GET", "/api/v1/search", params={"lat": "52.5"}, expect=422)
    lookup = "/api/v1/lookup/listing"
    await api.call("GET", lookup, params={"iri": listing["iri"]}, headers=bob, expect=200)
    await api.call("GET", lookup, params={"iri": "ftp://x"}, headers=bob, expect=422)
    await api.call("POST", one + "/withdrawal", path=ids, headers=bob, expect=200)
    await api.call("POST", one + "/withdrawal", path=ids, headers=bob, expect=409)
    await api.call("DELETE", one, path=ids, headers=bob, expect=204)
    await api.call("GET", one, path=ids, expect=410)
    await api.call("GET", one + "/replies", path=ids, expect=410)
    await api.call("DELETE", one_image, path={"image_id": image["id"]}, headers=bob, expect=204)


async def walk_follows(api: ApiWalk, admin: Caller, bob: dict[str, str]) -> None:
    """Local follows only: nothing here may reach another server."""
    admin_handle = {"target": f"{admin.member.username}@{HOST}"}
    await api.call("PATCH", "/api/v1/me", json={"manually_approves_followers": True},
                   headers=admin.auth, expect=200)
    request = await api.call("POST", "/api/v1/follows", json=admin_handle, headers=bob,
                             expect=201)
    await api.call("POST", "/api/v1/follows", json=admin_handle, headers=bob, expect=409)
    await api.call("POST", "/api/v1/follows", json={"target": "nohandle"}, headers=bob,
                   expect=422)
    await api.call("GET", "/api/v1/following", headers=bob, expect=200)
    await api.call("GET", "/api/v1/followers", headers=admin.auth, expect=200)
    decide = "/api/v1/follow-requests/{follow_id}"
    ids = {"follow_id": request["id"]}
    await api.call("POST", decide + "/accept", path=ids, headers=admin.auth, expect=200)
    await api.call("POST", decide + "/reject", path=ids, headers=admin.auth, expect=409)
    await api.call("DELETE", "/api/v1/follows/{follow_id}", path=ids, headers=bob, expect=204)
    await api.call("DELETE", "/api/v1/follows/{follow_id}", path=ids, headers=bob, expect=404)
    lookup = "/api/v1/lookup/actor"
    await api.call("GET", lookup, params={"resource": f"bob@{HOST}"}, headers=bob, expect=200)
    await api.call("GET", lookup, headers=bob, expect=422)
    await api.call("GET", lookup, params={"resource": f"http://{HOST}/users/nobody"},
                   headers=bob, expect=404)


async def walk_federation_admin(api: ApiWalk, admin: Caller, bob: dict[str, str]) -> None:
    """Peers, host policies and the queue; a blocked host is refused before any fetch."""
    auth = admin.auth
    await api.call("GET", "/api/v1/admin/peers", headers=auth, expect=200)
    await api.call("POST", "/api/v1/admin/peers", json={"host": HOST}, headers=auth, expect=422)
    await api.call("DELETE", "/api/v1/admin/peers/{host}", path={"host": "gone.example"},
                   headers=auth, expect=404)
    policy = "/api/v1/admin/federation/policies/{host}"
    blocked = {"host": "blocked.example"}
    await api.call("PUT", policy, path=blocked, json={"policy": "block"}, headers=auth,
                   expect=200)
    await api.call("GET", "/api/v1/lookup/actor", params={"resource": "eve@blocked.example"},
                   headers=bob, expect=403)
    await api.call("GET", "/api/v1/admin/federation/policies", headers=auth, expect=200)
    await api.call("POST", policy + "/purge", path=blocked, headers=auth, expect=200)
    await api.call("DELETE", policy, path=blocked, headers=auth, expect=204)
    await api.call("DELETE", policy, path=blocked, headers=auth, expect=404)
    await api.call("GET", "/api/v1/admin/queue", headers=auth, expect=200)
    await api.call("POST", "/api/v1/admin/queue/retry", json={}, headers=auth, expect=200)
    await api.call("POST", "/api/v1/admin/queue/drop", json={"host": "x.example"}, headers=auth,
                   expect=200)


async def walk_discovery(api: ApiWalk) -> None:
    webfinger = "/.well-known/webfinger"
    await api.call("GET", webfinger, params={"resource": f"acct:bob@{HOST}"}, expect=200)
    await api.call("GET", webfinger, expect=400)
    await api.call("GET", webfinger, params={"resource": "acct:x@elsewhere"}, expect=404)
    for path in ("/.well-known/nodeinfo", "/nodeinfo/2.1", "/healthz", "/readyz"):
        await api.call("GET", path, expect=200)


@pytest.mark.spec("OpenAPI 3.1 §4.8.17 Response Object")
async def test_real_answers_match_the_document(
    client: TestClient, make_member: MemberFactory
) -> None:
    api = ApiWalk(client, await fetch_document(client))
    admin = await make_member("root_admin", scope="admin")
    reader = await make_member("reader", scope="read")
    await api.call("GET", "/api/v1/openapi.json", expect=200)
    bob = await walk_accounts(api, reader)
    await walk_admin(api, admin, bob)
    await walk_listings(api, admin, bob)
    await walk_follows(api, admin, bob)
    await walk_federation_admin(api, admin, bob)
    await walk_exchanges(api, admin, bob)
    await walk_pools(api, admin, bob)
    await walk_moderation(api, admin, bob)
    await walk_vouches(api, admin, bob)
    await walk_questions(api, admin, bob)
    await walk_discovery(api)

    # The last ones end the session or spend the auth rate limit.
    await api.call("DELETE", "/api/v1/sessions/current", headers=bob, expect=204)
    await api.call("DELETE", "/api/v1/sessions/current", headers=bob, expect=401)
    for _ in range(20):
        response = await client.post("/api/v1/sessions", json={"username": "x", "password": "y"})
        if response.status == 429:
            break
    await api.conform("POST", "/api/v1/sessions", response)
    assert response.status == 429

    documented = {
        (method.upper(), path)
        for path, item in api.document["paths"].items()
        for method in item
    }
    assert documented - api.seen == set()
