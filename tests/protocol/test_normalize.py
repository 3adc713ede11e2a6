"""Normalising inbound JSON-LD, and the shape helpers the node reads documents with."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyld import jsonld as pyld_jsonld

from protocol import jsonld
from protocol.errors import JsonLdError
from protocol.namespaces import (
    ACTIVITYSTREAMS_CONTEXT,
    AS_PUBLIC,
    DATA_INTEGRITY_CONTEXT,
    KULA_ACTOR_CONTEXT,
    KULA_AP_CONTEXT,
    MULTIKEY_CONTEXT,
    SECURITY_V1_CONTEXT,
)
from protocol.normalize import (
    PUBLIC_ADDRESSES,
    as_list,
    first,
    has_type,
    id_of,
    ids_of,
    is_kula_shape,
    is_public,
    normalize,
    plain_text,
    strip_public_aliases,
    with_plain_language,
)

FEP_8B32 = json.loads((Path(__file__).parents[1] / "vectors" / "fep_8b32.json").read_text())

# Inline contexts as Mastodon (statuses and, before 4.3, actors) and Misskey send them.
MASTODON_STATUS_CONTEXT = [
    ACTIVITYSTREAMS_CONTEXT,
    {
        "ostatus": "http://ostatus.org#",
        "atomUri": "ostatus:atomUri",
        "conversation": "ostatus:conversation",
        "sensitive": "as:sensitive",
        "toot": "http://joinmastodon.org/ns#",
        "votersCount": "toot:votersCount",
        "blurhash": "toot:blurhash",
        "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
        "Hashtag": "as:Hashtag",
        "Emoji": "toot:Emoji",
    },
]
MASTODON_LEGACY_ACTOR_CONTEXT = [
    ACTIVITYSTREAMS_CONTEXT,
    SECURITY_V1_CONTEXT,
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "toot": "http://joinmastodon.org/ns#",
        "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
        # Mastodon 3.x end-to-end encryption terms; the first clashes with security v1.
        "EncryptedMessage": "toot:EncryptedMessage",
        "Device": "toot:Device",
    },
]
MISSKEY_CONTEXT = [
    ACTIVITYSTREAMS_CONTEXT,
    SECURITY_V1_CONTEXT,
    {
        "Key": "sec:Key",
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "sensitive": "as:sensitive",
        "Hashtag": "as:Hashtag",
        "quoteUrl": "as:quoteUrl",
        "misskey": "https://misskey-hub.net/ns#",
        "_misskey_content": "misskey:_misskey_content",
        "_misskey_quote": "misskey:_misskey_quote",
        "isCat": "misskey:isCat",
        "vcard": "http://www.w3.org/2006/vcard/ns#",
    },
]

MASTODON_CREATE = {
    "@context": MASTODON_STATUS_CONTEXT,
    "id": "https://masto.example/users/ana/statuses/1/activity",
    "type": "Create",
    "actor": "https://masto.example/users/ana",
    "to": ["https://www.w3.org/ns/activitystreams#Public"],
    "cc": ["https://masto.example/users/ana/followers"],
    "object": {
        "id": "https://masto.example/users/ana/statuses/1",
        "type": "Note",
        "attributedTo": "https://masto.example/users/ana",
        "sensitive": False,
        "content": "<p>Lending my ladder</p>",
        "contentMap": {"en": "<p>Lending my ladder</p>"},
        "tag": [{"type": "Hashtag", "href": "https://masto.example/tags/lend", "name": "#lend"}],
        "attachment": [
            {"type": "Document", "mediaType": "image/jpeg", "blurhash": "UAB", "focalPoint": [0, 0]}
        ],
    },
}
MISSKEY_NOTE = {
    "@context": MISSKEY_CONTEXT,
    "id": "https://misskey.example/notes/9x",
    "type": "Note",
    "attributedTo": "https://misskey.example/users/8z",
    "to": "https://www.w3.org/ns/activitystreams#Public",
    "content": "<p>swap?</p>",
    "_misskey_content": "swap?",
    "_misskey_quote": None,
    "quoteUrl": None,
}


@pytest.fixture
def pyld_forbidden(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any JSON-LD processing during the test fails it."""

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("pyld was called on the fast path")

    for name in ("expand", "compact", "flatten", "normalize"):
        monkeypatch.setattr(pyld_jsonld, name, forbidden)
    monkeypatch.setattr(jsonld, "expand", forbidden)
    monkeypatch.setattr(jsonld, "compact", forbidden)


FAST_DOCUMENTS = {
    "as-string": {"@context": ACTIVITYSTREAMS_CONTEXT, "type": "Follow", "object": "https://b/u"},
    "as-http-alias": {"@context": "http://www.w3.org/ns/activitystreams", "type": "Like"},
    "no-context": {"type": "Follow", "actor": "https://a/u", "object": "https://b/u"},
    "kula-actor": {"@context": KULA_ACTOR_CONTEXT, "type": "Person", "id": "https://k/u"},
    "kula-ap": {"@context": KULA_AP_CONTEXT, "type": "Offer", "id": "https://k/o"},
    "multikey": {"@context": [ACTIVITYSTREAMS_CONTEXT, MULTIKEY_CONTEXT], "type": "Person"},
    "mastodon-create": MASTODON_CREATE,
    "misskey-note": MISSKEY_NOTE,
    "fep-8b32-signed": FEP_8B32["vectors"]["current"]["signed"],
    "fep-8b32-actor": FEP_8B32["vectors"]["current"]["actor"],
}


@pytest.mark.spec("AS 2.0 Core §2.1")
@pytest.mark.parametrize("name", sorted(FAST_DOCUMENTS))
def test_fast_path_documents_are_returned_without_calling_pyld(
    name: str, pyld_forbidden: None
) -> None:
    document = FAST_DOCUMENTS[name]
    assert is_kula_shape(document)
    result = normalize(document)
    assert result == document
    assert result is not document


@pytest.mark.spec("AS 2.0 Core §2.1")
def test_fast_path_result_is_independent_of_the_signed_original() -> None:
    original = copy.deepcopy(MASTODON_CREATE)
    result = normalize(MASTODON_CREATE)
    result["object"]["content"] = "tampered"
    result["to"].append("https://evil.example/u")
    assert original == MASTODON_CREATE


SLOW_CONTEXTS = {
    "vocab": [ACTIVITYSTREAMS_CONTEXT, {"@vocab": "http://evil.example/ns#"}],
    "default-language": [ACTIVITYSTREAMS_CONTEXT, {"@language": "und"}],
    "redefines-as-term": [ACTIVITYSTREAMS_CONTEXT, {"actor": "http://evil.example/ns#actor"}],
    "redefines-as-prefix": [ACTIVITYSTREAMS_CONTEXT, {"as": "http://evil.example/ns#"}],
    "aliases-as-iri": [ACTIVITYSTREAMS_CONTEXT, {"author": "as:attributedTo"}],
    "keyword-alias": [ACTIVITYSTREAMS_CONTEXT, {"uri": "@id"}],
    "index-container": [ACTIVITYSTREAMS_CONTEXT, {"x": {"@id": "x:y", "@container": "@index"}}],
    "scoped-context": [ACTIVITYSTREAMS_CONTEXT, {"x": {"@id": "x:y", "@context": {}}}],
    "null-reset": [ACTIVITYSTREAMS_CONTEXT, None],
    "legacy-mastodon-actor": MASTODON_LEGACY_ACTOR_CONTEXT,
    "credentials": ["https://www.w3.org/ns/credentials/v2"],
}


@pytest.mark.spec("JSON-LD 1.1 §4.1")
@pytest.mark.parametrize("name", sorted(SLOW_CONTEXTS))
def test_contexts_outside_the_conservative_rule_take_the_slow_path(name: str) -> None:
    assert not is_kula_shape({"@context": SLOW_CONTEXTS[name], "type": "Note"})


@pytest.mark.spec("JSON-LD 1.1 §4.1")
@pytest.mark.parametrize(
    "document",
    [
        {"@context": ACTIVITYSTREAMS_CONTEXT, "as:actor": {"id": "https://a/u"}},
        {"@context": ACTIVITYSTREAMS_CONTEXT, "@id": "https://a/n", "type": "Note"},
        {"object": {"@context": [ACTIVITYSTREAMS_CONTEXT, {"@vocab": "x:"}], "type": "Note"}},
        {"object": [{"type": "Note", f"{AS_PUBLIC[:-6]}content": "hi"}]},
    ],
    ids=["prefixed-key", "keyword-key", "nested-context", "iri-key-in-list"],
)
def test_body_keys_that_are_not_plain_terms_take_the_slow_path(document: dict[str, Any]) -> None:
    assert not is_kula_shape(document)


@pytest.mark.spec("AS 2.0 Core §4.1")
def test_as_prefixed_keys_and_keywords_become_plain_terms() -> None:
    document = {
        "@context": ACTIVITYSTREAMS_CONTEXT,
        "@id": "https://a.example/likes/1",
        "@type": "as:Like",
        "as:actor": {"id": "https://a.example/users/ana"},
        "as:object": {"@id": "https://b.example/offers/7"},
        "as:to": [{"id": AS_PUBLIC}],
    }
    assert normalize(document) == {
        "@context": KULA_AP_CONTEXT,
        "id": "https://a.example/likes/1",
        "type": "Like",
        "actor": "https://a.example/users/ana",
        "object": "https://b.example/offers/7",
        "to": "as:Public",
    }


@pytest.mark.spec("JSON-LD 1.1 §4.1")
def test_redefined_as_term_is_not_read_as_the_as_term() -> None:
    document = {
        "@context": SLOW_CONTEXTS["redefines-as-term"],
        "type": "Create",
        "actor": "https://evil.example/users/mallory",
    }
    result = normalize(document)
    assert "actor" not in result
    assert result["http://evil.example/ns#actor"] == "https://evil.example/users/mallory"


@pytest.mark.spec("JSON-LD 1.1 §4.1")
def test_alias_of_an_as_iri_is_renamed_to_the_as_term() -> None:
    document = {
        "@context": SLOW_CONTEXTS["aliases-as-iri"],
        "type": "Note",
        # Without "@type": "@id" in the alias a bare string would be a literal, not an IRI.
        "author": {"id": "https://a.example/users/ana"},
    }
    result = normalize(document)
    assert result["attributedTo"] == "https://a.example/users/ana"
    assert "author" not in result


@pytest.mark.spec("AS 2.0 Core §4.7")
def test_default_language_becomes_a_language_map() -> None:
    document = {"@context": SLOW_CONTEXTS["default-language"], "type": "Note", "content": "hi"}
    result = normalize(document)
    assert result["contentMap"] == {"und": "hi"}
    assert plain_text(result, "content") == "hi"


@pytest.mark.spec("AS 2.0 Core §2.1")
def test_missing_activitystreams_context_is_assumed() -> None:
    document = {"@context": {"@language": "en"}, "type": "Note", "content": "bonjour"}
    result = normalize(document)
    assert result["type"] == "Note"
    assert result["contentMap"] == {"en": "bonjour"}


@pytest.mark.spec("JSON-LD 1.1 §4.1")
def test_legacy_mastodon_actor_keeps_its_key_with_the_actor_context() -> None:
    actor = {
        "@context": MASTODON_LEGACY_ACTOR_CONTEXT,
        "id": "https://masto.example/users/ana",
        "type": "Person",
        "inbox": "https://masto.example/users/ana/inbox",
        "manuallyApprovesFollowers": False,
        "publicKey": {
            "id": "https://masto.example/users/ana#main-key",
            "owner": "https://masto.example/users/ana",
            "publicKeyPem": "-----BEGIN PUBLIC KEY-----\n...",
        },
    }
    original = copy.deepcopy(actor)
    result = normalize(actor, KULA_ACTOR_CONTEXT)
    assert actor == original
    assert result["@context"] == KULA_ACTOR_CONTEXT
    assert result["publicKey"] == actor["publicKey"]
    assert result["manuallyApprovesFollowers"] is False
    assert is_kula_shape(result)


@pytest.mark.spec("JSON-LD 1.1 API §9.4.1")
def test_unknown_remote_context_is_refused() -> None:
    document = {"@context": [ACTIVITYSTREAMS_CONTEXT, "https://litepub.example/schemas/x.jsonld"]}
    with pytest.raises(JsonLdError, match="not bundled"):
        normalize(document)


@pytest.mark.spec("AS 2.0 Core §4.1")
def test_non_objects_are_refused() -> None:
    with pytest.raises(JsonLdError, match="JSON object"):
        normalize(["https://a.example/notes/1"])  # type: ignore[arg-type]


@pytest.mark.spec("AS 2.0 Core §4.1")
def test_slow_path_does_not_modify_its_input() -> None:
    document = {
        "@context": SLOW_CONTEXTS["vocab"],
        "type": "Note",
        "proof": {"@context": [ACTIVITYSTREAMS_CONTEXT, DATA_INTEGRITY_CONTEXT], "type": "X"},
    }
    original = copy.deepcopy(document)
    normalize(document)
    assert document == original


iris = st.sampled_from([f"https://{host}.example/{path}" for host in "ab" for path in "uvw"])
objects = st.fixed_dictionaries(
    {"id": iris, "type": st.sampled_from(["Note", "Person", "as:Offer"])},
    optional={
        "content": st.text(max_size=8),
        "contentMap": st.dictionaries(
            st.sampled_from(["en", "fr", "und"]), st.text(max_size=8), max_size=2
        ),
    },
)
references = st.one_of(iris, objects, st.fixed_dictionaries({"as:id": iris}))
addresses = st.one_of(iris, st.sampled_from(sorted(PUBLIC_ADDRESSES)))
contexts = st.sampled_from(
    [
        ACTIVITYSTREAMS_CONTEXT,
        KULA_AP_CONTEXT,
        MASTODON_STATUS_CONTEXT,
        MISSKEY_CONTEXT,
        *(
            SLOW_CONTEXTS[name]
            for name in (
                "vocab",
                "default-language",
                "redefines-as-term",
                "aliases-as-iri",
                "keyword-alias",
                "legacy-mastodon-actor",
            )
        ),
    ]
)


def _one_or_many(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(values, st.lists(values, min_size=1, max_size=3))


as_documents = st.fixed_dictionaries(
    {"type": _one_or_many(st.sampled_from(["Create", "as:Announce", "Offer", AS_PUBLIC[:-6]]))},
    optional={
        "@context": contexts,
        "id": iris,
        "actor": _one_or_many(references),
        "as:object": _one_or_many(references),
        "object": _one_or_many(references),
        "to": _one_or_many(addresses),
        "cc": _one_or_many(addresses),
        "content": st.text(max_size=12),
        "sensitive": st.booleans(),
    },
)


@pytest.mark.spec("JSON-LD 1.1 API §4.2")
@settings(max_examples=80, deadline=None)
@given(as_documents)
def test_normalize_is_idempotent(document: dict[str, Any]) -> None:
    once = normalize(document)
    assert normalize(once) == once


@pytest.mark.spec("AS 2.0 Core §4.1")
def test_shape_helpers_on_single_values_and_arrays() -> None:
    assert as_list(None) == []
    assert as_list("https://a/u") == ["https://a/u"]
    values = ["https://a/u"]
    assert as_list(values) == values and as_list(values) is not values
    assert first(None) is None and first([]) is None
    assert first(["https://a/u", "https://b/u"]) == "https://a/u"
    assert first({"id": "https://a/u"}) == {"id": "https://a/u"}


@pytest.mark.spec("AS 2.0 Core §4.1")
def test_id_of_embedded_and_referenced_objects() -> None:
    assert id_of("https://a/u") == "https://a/u"
    assert id_of({"id": "https://a/u", "type": "Person"}) == "https://a/u"
    assert id_of({"type": "Person"}) is None
    assert id_of({"id": 5}) is None
    assert id_of(None) is None and id_of(7) is None
    mixed = ["https://a/u", {"id": "https://b/u"}, {"type": "Note"}, None]
    assert ids_of(mixed) == ["https://a/u", "https://b/u"]
    assert ids_of({"id": "https://c/u"}) == ["https://c/u"]


@pytest.mark.spec("AS 2.0 Vocabulary §2")
def test_has_type_accepts_every_activitystreams_spelling() -> None:
    for spelling in ("Create", "as:Create", "https://www.w3.org/ns/activitystreams#Create"):
        assert has_type({"type": spelling}, "Create")
        assert has_type({"type": ["Activity", spelling]}, "Create")
        assert has_type({"type": "Create"}, spelling)
    assert not has_type({"type": "Update"}, "Create")
    assert not has_type({"type": "toot:Emoji"}, "Emoji")
    assert has_type({"type": ["Intent", "Offer"]}, "Intent")
    assert not has_type({}, "Create") and not has_type("Create", "Create")


@pytest.mark.spec("ActivityPub §5.6")
@pytest.mark.parametrize("spelling", sorted(PUBLIC_ADDRESSES))
def test_every_public_spelling_is_public(spelling: str) -> None:
    assert is_public(spelling)
    assert is_public(["https://a/followers", spelling])
    assert is_public([{"id": spelling}])
    assert strip_public_aliases(["https://a/followers", spelling]) == ["https://a/followers"]


@pytest.mark.spec("ActivityPub §5.6")
def test_private_addressing_is_not_public() -> None:
    assert not is_public(None)
    assert not is_public(["https://a/followers", "https://www.w3.org/ns/activitystreams"])
    assert not is_public("https://evil.example/#Public")
    assert strip_public_aliases("https://a/u") == ["https://a/u"]


@pytest.mark.spec("AS 2.0 Core §4.7")
def test_language_maps_fill_absent_plain_terms() -> None:
    note = {"type": "Note", "contentMap": {"fr": "vélo", "en": "bike"}, "nameMap": {"und": "x"}}
    assert plain_text(note, "content") == "vélo"
    assert plain_text(note, "content", ["en"]) == "bike"
    assert plain_text(note, "name", ["de"]) == "x"
    assert plain_text(note, "summary") is None
    filled = with_plain_language(note, ["en"])
    assert filled["content"] == "bike" and filled["name"] == "x" and "summary" not in filled
    assert "content" not in note
    assert with_plain_language({"content": "plain", "contentMap": {"en": "map"}})["content"] == (
        "plain"
    )


@pytest.mark.spec("AS 2.0 Core §4.1")
def test_replayed_mastodon_and_misskey_documents_read_the_same_way() -> None:
    create = normalize(MASTODON_CREATE)
    note = normalize(MISSKEY_NOTE)
    assert has_type(create, "Create") and has_type(first(create["object"]), "Note")
    assert id_of(create["object"]) == "https://masto.example/users/ana/statuses/1"
    assert is_public(create["to"]) and is_public(note["to"])
    assert ids_of(note["to"]) == [AS_PUBLIC]
    assert plain_text(first(create["object"]), "content", ["en"]) == "<p>Lending my ladder</p>"
