"""The OpenAPI 3.1 document: valid, complete against the router, built from the
shipped schemas, and describing what the API really answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import ClientResponse, FormData
from aiohttp.test_utils import TestClient
from conftest import TEST_PASSWORD, MemberFactory
from helpers import listing_body, png_bytes
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator

from node.errors import NodeError
from node.web.problems import PROBLEM_BASE
from schemas import SCHEMA_BASE_URI, SCHEMA_SUFFIX, load_schema, schema_names

COMPONENTS = "#/components/schemas/"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


async def fetch_document(client: TestClient) -> dict[str, Any]:
    response = await client.get("/api/v1/openapi.json")
    assert response.status == 200
    assert response.content_type == "application/json"
    return await response.json()


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object inside ``node``."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"{ref} leaves the document"
    target: Any = document
    for token in ref[2:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        target = target[int(token)] if isinstance(target, list) else target[token]
    return target


def unembed(name: str, component: dict[str, Any]) -> dict[str, Any]:
    """Undo the embedding by hand: the schema file this component should have come from."""

    def back(node: Any) -> Any:
        if isinstance(node, list):
            return [back(item) for item in node]
        if not isinstance(node, dict):
            return node
        restored = {key: back(value) for key, value in node.items()}
        ref = node.get("$ref")
        if isinstance(ref, str):
            target, _, rest = ref.removeprefix(COMPONENTS).partition("/")
            if target == name:
                restored["$ref"] = "#/" + rest
            else:
                restored["$ref"] = target + SCHEMA_SUFFIX + ("#/" + rest if rest else "")
        return restored

    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_BASE_URI}{name}{SCHEMA_SUFFIX}",
        **back(component),
    }


@pytest.mark.spec("OpenAPI 3.1 §4.8")
async def test_served_document_is_valid_openapi_3_1(client: TestClient) -> None:
    document = await fetch_document(client)
    assert document["openapi"].startswith("3.1.")
    errors = [error.message for error in OpenAPIV31SpecValidator(document).iter_errors()]
    assert errors == []


@pytest.mark.spec("OpenAPI 3.1 §4.8.8 Paths Object")
async def test_every_api_route_is_documented_and_nothing_else(client: TestClient) -> None:
    document = await fetch_document(client)
    routed: set[tuple[str, str]] = set()
    for route in client.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if path.startswith("/api/v1/") and route.method != "*":
            routed.add((route.method.lower(), path))
    # aiohttp answers HEAD for every GET by itself; the document says so once.
    routed -= {("head", path) for method, path in routed if ("get", path) in routed}
    documented = {
        (method, path)
        for path, item in document["paths"].items()
        if path.startswith("/api/v1/")
        for method in item.keys() & HTTP_METHODS
    }
    assert documented == routed


@pytest.mark.spec("OpenAPI 3.1 §4.8.8 Paths Object")
async def test_discovery_endpoints_are_documented_under_their_own_tags(client: TestClient) -> None:
    document = await fetch_document(client)
    routed = {route.resource.canonical for route in client.app.router.routes() if route.resource}
    tags = {
        path: document["paths"][path]["get"]["tags"]
        for path in ("/.well-known/webfinger", "/.well-known/nodeinfo", "/nodeinfo/2.1",
                     "/healthz", "/readyz")
    }
    assert set(tags) <= routed
    assert {tag for found in tags.values() for tag in found} == {"discovery", "health"}
    api_tags = {
        tag
        for path, item in document["paths"].items() if path.startswith("/api/v1/")
        for operation in item.values() for tag in operation["tags"]
    }
    assert not api_tags & {"discovery", "health"}


@pytest.mark.spec("OpenAPI 3.1 §4.8.7.1 Schema Object")
async def test_component_schemas_are_the_shipped_schemas(client: TestClient) -> None:
    document = await fetch_document(client)
    components = document["components"]["schemas"]
    assert {name for name in schema_names() if name.startswith("api-")} | {"problem"} <= set(
        components
    )
    for name, component in components.items():
        assert "$id" not in component, name
        assert unembed(name, component) == load_schema(name), name


@pytest.mark.spec("OpenAPI 3.1 §4.8.23 Reference Object")
async def test_document_is_self_contained(client: TestClient) -> None:
    document = await fetch_document(client)
    refs = [node["$ref"] for node in walk(document) if isinstance(node.get("$ref"), str)]
    assert refs
    for ref in refs:
        resolve(document, ref)  # raises if it points outside or at nothing


@pytest.mark.spec("OpenAPI 3.1 §4.8.10 Operation Object")
async def test_security_names_the_least_scope_per_operation(client: TestClient) -> None:
    document = await fetch_document(client)
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert (schemes["sessionCookie"]["in"], schemes["sessionCookie"]["name"]) == (
        "cookie",
        "kula_session",
    )
    flat = {
        (method.upper(), path): {
            scope for need in op["security"] for scopes in need.values() for scope in scopes
        }
        for path, item in document["paths"].items()
        for method, op in item.items()
    }
    assert flat[("GET", "/api/v1/search")] == set()
    assert flat[("GET", "/api/v1/me")] == {"read"}
    assert flat[("POST", "/api/v1/listings")] == {"write"}
    assert flat[("POST", "/api/v1/admin/invites")] == {"admin"}
    for (_, path), needed in flat.items():
        if path.startswith("/api/v1/admin/"):
            assert needed == {"admin"}, path


@pytest.mark.spec("RFC 9457 §3.1.1")
async def test_problem_types_are_listed(client: TestClient) -> None:
    document = await fetch_document(client)
    listed = {entry["slug"]: entry for entry in document["x-problem-types"]}
    kinds: list[type[NodeError]] = [NodeError]
    for kind in kinds:
        kinds.extend(kind.__subclasses__())
    for kind in kinds:
        assert listed[kind.type_slug]["status"] == kind.status
        assert listed[kind.type_slug]["type"] == PROBLEM_BASE + kind.type_slug
        assert f"`{kind.type_slug}`" in document["info"]["description"]
    for slug in ("malformed-json", "rate-limited", "method-not-allowed", "http-error"):
        assert slug in listed


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


@pytest.mark.spec("OpenAPI 3.1 §4.8.17 Response Object")
async def test_real_answers_match_the_document(
    client: TestClient, make_member: MemberFactory
) -> None:
    api = ApiWalk(client, await fetch_document(client))
    admin = await make_member("root_admin", scope="admin")
    reader = await make_member("reader", scope="read")
    await api.call("GET", "/api/v1/openapi.json", expect=200)

    # Accounts.
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
    await api.call("GET", "/api/v1/me", expect=401)
    await api.call("GET", "/api/v1/me", headers=bob, expect=200)
    await api.call("PATCH", "/api/v1/me", json={"display_name": "Bob"}, headers=bob, expect=200)
    await api.call("PATCH", "/api/v1/me", json={"summary": "x"}, headers=reader.auth, expect=403)
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

    # Administration.
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

    # Images and listings.
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
    await api.call("PATCH", one, path=ids, json={"title": "Drill"}, headers=bob, expect=200)
    await api.call("PATCH", one, path=ids, json={"title": "Mine"}, headers=admin.auth, expect=403)
    await api.call("GET", members + "/{username}/listings", path={"username": "bob"}, expect=200)
    await api.call("GET", members + "/{username}/listings", path={"username": "bob"},
                   params={"cursor": "x"}, expect=422)
    await api.call("GET", "/api/v1/search", params={"q": "drill", "lat": "52.5", "lon": "13.4"},
                   expect=200)
    await api.call("GET", "/api/v1/search", params={"lat": "52.5"}, expect=422)
    await api.call("POST", one + "/withdrawal", path=ids, headers=bob, expect=200)
    await api.call("POST", one + "/withdrawal", path=ids, headers=bob, expect=409)
    await api.call("DELETE", one, path=ids, headers=bob, expect=204)
    await api.call("GET", one, path=ids, expect=410)
    await api.call("DELETE", one_image, path={"image_id": image["id"]}, headers=bob, expect=204)

    # Discovery and health.
    await api.call("GET", "/.well-known/webfinger", params={"resource": "acct:bob@127.0.0.1:8080"},
                   expect=200)
    await api.call("GET", "/.well-known/webfinger", expect=400)
    await api.call("GET", "/.well-known/webfinger", params={"resource": "acct:x@elsewhere"},
                   expect=404)
    for path in ("/.well-known/nodeinfo", "/nodeinfo/2.1", "/healthz", "/readyz"):
        await api.call("GET", path, expect=200)

    # The last ones end the session or spend the auth rate limit.
    await api.call("DELETE", "/api/v1/sessions/current", headers=bob, expect=204)
    await api.call("DELETE", "/api/v1/sessions/current", headers=bob, expect=401)
    for _ in range(20):
        response = await client.post("/api/v1/sessions", json=new)
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
