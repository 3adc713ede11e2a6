"""The OpenAPI 3.1 document: valid, complete against the router, built from the
shipped schemas, with its problem types and scopes (the walk through the real API
is in test_openapi_walk.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
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


def objects_in(node: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object inside ``node``."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from objects_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from objects_in(item)


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
    refs = [node["$ref"] for node in objects_in(document) if isinstance(node.get("$ref"), str)]
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
