"""The JSON Schemas themselves: valid draft 2020-12, self-contained, standard
keywords only, and bounded wherever they accept untrusted input."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from schemas import SCHEMA_BASE_URI, load_schema, schema_names

NAMES = schema_names()
# Bodies Kula itself produces are not untrusted input; everything else is.
INBOUND = [name for name in NAMES if "(response body)" not in load_schema(name)["title"]]
# Draft 2020-12 Core and Validation vocabularies, plus the annotation keywords.
KEYWORDS = frozenset({
    "$schema", "$id", "$ref", "$defs", "$comment", "$anchor", "$dynamicRef", "$dynamicAnchor",
    "title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly",
    "type", "enum", "const", "properties", "required", "additionalProperties",
    "patternProperties", "propertyNames", "minProperties", "maxProperties",
    "dependentRequired", "dependentSchemas", "unevaluatedProperties", "items", "prefixItems",
    "contains", "minContains", "maxContains", "minItems", "maxItems", "uniqueItems",
    "unevaluatedItems", "minLength", "maxLength", "pattern", "format", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "allOf", "anyOf", "oneOf", "not",
    "if", "then", "else", "contentMediaType", "contentEncoding", "contentSchema",
})
_MAP_OF_SCHEMAS = ("properties", "$defs", "patternProperties", "dependentSchemas")
_LIST_OF_SCHEMAS = ("allOf", "anyOf", "oneOf", "prefixItems")
_ONE_SCHEMA = ("items", "contains", "not", "if", "then", "else", "additionalProperties",
               "unevaluatedProperties", "unevaluatedItems", "propertyNames")


def _subschemas(schema: Any, path: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object inside ``schema``, with a pointer-like location."""
    if not isinstance(schema, dict):
        return
    yield path, schema
    for keyword in _MAP_OF_SCHEMAS:
        for key, sub in schema.get(keyword, {}).items():
            yield from _subschemas(sub, f"{path}/{keyword}/{key}")
    for keyword in _LIST_OF_SCHEMAS:
        for index, sub in enumerate(schema.get(keyword, [])):
            yield from _subschemas(sub, f"{path}/{keyword}/{index}")
    for keyword in _ONE_SCHEMA:
        if keyword in schema:
            yield from _subschemas(schema[keyword], f"{path}/{keyword}")


@pytest.mark.spec("JSON Schema 2020-12 Core §8.1.1")
@pytest.mark.parametrize("name", NAMES)
def test_schema_is_a_valid_draft_2020_12_schema(name: str) -> None:
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"{SCHEMA_BASE_URI}{name}.schema.json"
    assert schema["title"]


@pytest.mark.spec("JSON Schema 2020-12 Core §6.5 (extending)")
@pytest.mark.parametrize("name", NAMES)
def test_schema_uses_standard_keywords_only(name: str) -> None:
    unknown = {
        f"{where}: {key}"
        for where, sub in _subschemas(load_schema(name))
        for key in sub
        if key not in KEYWORDS
    }
    assert not unknown


@pytest.mark.spec("JSON Schema 2020-12 Core §8.2.3.1 ($ref)")
@pytest.mark.parametrize("name", NAMES)
def test_every_ref_resolves_to_a_shipped_schema(name: str) -> None:
    registry = Registry().with_resources(
        (load_schema(other)["$id"], Resource.from_contents(load_schema(other), DRAFT202012))
        for other in NAMES
    )
    schema = load_schema(name)
    resolver = registry.resolver(base_uri=schema["$id"])
    refs = [sub["$ref"] for _, sub in _subschemas(schema) if "$ref" in sub]
    for ref in refs:
        assert not ref.startswith("http"), f"{ref} must be relative to the Kula base"
        resolver.lookup(ref)  # raises if it points at nothing


@pytest.mark.spec("Kula THREAT_MODEL: bounded input")
@pytest.mark.parametrize("name", INBOUND)
def test_untrusted_strings_and_arrays_are_bounded(name: str) -> None:
    unbounded = []
    for where, sub in _subschemas(load_schema(name)):
        kind = sub.get("type")
        if kind == "string" and "maxLength" not in sub:
            unbounded.append(f"{where} (string without maxLength)")
        if kind == "array" and "maxItems" not in sub:
            unbounded.append(f"{where} (array without maxItems)")
    assert unbounded == []


@pytest.mark.spec("Kula SPEC: schemas")
def test_every_family_the_brief_lists_has_a_schema() -> None:
    expected = {
        "proposal", "intent", "agreement", "commitment", "attestation", "actor", "collection",
        "collection-page", "place", "image", "tombstone", "note", "activity", "create",
        "update", "delete", "follow", "accept", "reject", "undo", "announce", "offer", "move",
        "flag", "handover", "return", "complete", "cancel", "no-show", "dispute",
        "api-listing-create-request", "api-listing-update-request", "api-listing", "problem",
        "api-listing-page", "api-member", "api-token",
    }
    assert expected <= set(NAMES)


@pytest.mark.spec("Kula SPEC: schemas")
@pytest.mark.parametrize("name", ["../pyproject", "Proposal", "", "proposal.schema"])
def test_load_schema_refuses_names_outside_the_folder(name: str) -> None:
    with pytest.raises(KeyError):
        load_schema(name)
