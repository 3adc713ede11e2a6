"""Kula's JSON Schemas embedded as OpenAPI 3.1 components.

OpenAPI 3.1 speaks JSON Schema 2020-12, so the files in ``schemas/`` are used
as they are, with two changes that make the document self-contained:
``$id`` and ``$schema`` are dropped (an embedded ``$id`` would make ``#...``
references resolve inside the embedded schema, and tools that ignore ``$id``
would try to fetch ``https://kula.community/...``), and every ``$ref`` is
rewritten to point into ``#/components/schemas/``.
"""

from __future__ import annotations

from typing import Any

from schemas import SCHEMA_SUFFIX, load_schema, schema_names

COMPONENT_PREFIX = "#/components/schemas/"
#: Keys that identify a schema as a standalone resource; meaningless once embedded.
RESOURCE_KEYS = ("$id", "$schema")


def component_ref(name: str) -> str:
    """The ``$ref`` that points at schema ``name`` inside the OpenAPI document."""
    return COMPONENT_PREFIX + name


def api_schema_names() -> list[str]:
    """The schemas the client API's bodies are written in: ``api-*`` and ``problem``."""
    return [name for name in schema_names() if name.startswith("api-")] + ["problem"]


def rewrite_ref(ref: str, owner: str) -> str:
    """Turn a reference written relative to ``<owner>.schema.json`` into a document pointer.

    ``#/$defs/x`` inside ``common`` becomes ``#/components/schemas/common/$defs/x``;
    ``common.schema.json#/$defs/x`` becomes the same; ``api-member.schema.json``
    becomes ``#/components/schemas/api-member``.
    """
    target, _, fragment = ref.partition("#")
    if not target:
        return component_ref(owner) + fragment
    if not target.endswith(SCHEMA_SUFFIX) or "/" in target:
        raise ValueError(f"{owner}: cannot embed a reference to {ref!r}")
    return component_ref(target.removesuffix(SCHEMA_SUFFIX)) + fragment


def _rewrite(node: Any, owner: str, found: set[str]) -> Any:
    if isinstance(node, list):
        return [_rewrite(item, owner, found) for item in node]
    if not isinstance(node, dict):
        return node
    rewritten: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            pointer = rewrite_ref(value, owner)
            found.add(pointer.removeprefix(COMPONENT_PREFIX).split("/", 1)[0])
            rewritten[key] = pointer
        else:
            rewritten[key] = _rewrite(value, owner, found)
    return rewritten


def embed_schema(name: str) -> tuple[dict[str, Any], set[str]]:
    """Schema ``name`` ready for ``components/schemas``, and the schemas it refers to."""
    schema = {k: v for k, v in load_schema(name).items() if k not in RESOURCE_KEYS}
    found: set[str] = set()
    embedded = _rewrite(schema, name, found)
    return embedded, found - {name}


def component_schemas(roots: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """``roots`` (by default the API's schemas) and everything they refer to, embedded."""
    pending = list(api_schema_names() if roots is None else roots)
    embedded: dict[str, dict[str, Any]] = {}
    while pending:
        name = pending.pop()
        if name in embedded:
            continue
        embedded[name], referenced = embed_schema(name)
        pending.extend(sorted(referenced - embedded.keys()))
    return dict(sorted(embedded.items()))
