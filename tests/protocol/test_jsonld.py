"""Bundled contexts and the offline pyld document loader."""

from __future__ import annotations

import hashlib
import json
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld as pyld_jsonld

import protocol.contexts
from protocol import jsonld
from protocol.contexts import CONTEXT_ALIASES, CONTEXT_FILES, load_context
from protocol.errors import JsonLdError, LimitError
from protocol.namespaces import (
    ACTIVITYSTREAMS_CONTEXT,
    DATA_INTEGRITY_CONTEXT,
    KULA_CONTEXT,
    SECURITY_V1_CONTEXT,
)

REPOSITORY = Path(__file__).parents[2]
VECTORS = REPOSITORY / "tests" / "vectors"
FEP_8B32 = json.loads((VECTORS / "fep_8b32.json").read_text())["vectors"]["current"]
VC_VECTOR = json.loads((VECTORS / "vc_di_eddsa_jcs_2022.json").read_text())

AS = "https://www.w3.org/ns/activitystreams#"
SEC = "https://w3id.org/security#"
CRED = "https://www.w3.org/2018/credentials#"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Make every way of opening a connection fail loudly, and record attempts."""
    attempts: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(repr(args))
        raise AssertionError("network access attempted during an offline JSON-LD test")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield attempts
    assert attempts == []


def _expanded_values(node: dict[str, Any], iri: str) -> list[Any]:
    return [value.get("@value", value.get("@id")) for value in node.get(iri, [])]


@pytest.mark.spec("JSON-LD 1.1 API §9.4.1")
@pytest.mark.parametrize("iri", sorted(CONTEXT_FILES))
def test_loader_serves_each_bundled_context(iri: str, no_network: list[str]) -> None:
    remote = jsonld.document_loader(iri)
    packaged = json.loads(
        resources.files("protocol.contexts").joinpath(CONTEXT_FILES[iri]).read_text("utf-8")
    )
    assert remote["document"] == packaged
    assert remote["documentUrl"] == iri
    assert remote["contextUrl"] is None
    assert remote["contentType"] == "application/ld+json"
    assert remote["tag"] == "static"


@pytest.mark.spec("AS 2.0 Core §2.1")
@pytest.mark.parametrize("alias", sorted(CONTEXT_ALIASES))
def test_loader_serves_aliases_as_the_canonical_document(alias: str) -> None:
    remote = jsonld.document_loader(alias)
    assert remote["documentUrl"] == CONTEXT_ALIASES[alias]
    assert remote["document"] == load_context(CONTEXT_ALIASES[alias])


def _recorded_digests() -> dict[str, str]:
    text = (Path(protocol.contexts.__file__).parent / "SOURCES.md").read_text()
    rows = re.findall(r"^\| `([\w.-]+\.jsonld)` \|.*\| `([0-9a-f]{64})` \|$", text, re.MULTILINE)
    return dict(rows)


@pytest.mark.spec("JSON-LD 1.1 API §9.4.1")
def test_bundled_standard_contexts_are_the_verified_copies() -> None:
    recorded = _recorded_digests()
    standard_files = {name for iri, name in CONTEXT_FILES.items() if iri != KULA_CONTEXT}
    assert set(recorded) == standard_files
    for name, digest in recorded.items():
        data = resources.files("protocol.contexts").joinpath(name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, name


@pytest.mark.spec("AS 2.0 Core §2.1")
def test_activitystreams_copy_is_the_published_revision() -> None:
    body = load_context(ACTIVITYSTREAMS_CONTEXT)["@context"]
    # Expanded AS documents everywhere use https IRIs; older drafts used http.
    assert body["as"] == AS
    for term in ("sharedInbox", "alsoKnownAs", "Public", "likes", "shares", "liked"):
        assert body[term]["@id"] == f"as:{term}"


@pytest.mark.spec("JSON-LD 1.1 API §9.4.1")
def test_loaded_contexts_are_fresh_copies() -> None:
    first = jsonld.document_loader(SECURITY_V1_CONTEXT)
    first["document"]["@context"]["publicKey"] = "http://attacker.example/ns#key"
    assert load_context(SECURITY_V1_CONTEXT)["@context"]["publicKey"]["@id"] == "sec:publicKey"


@pytest.mark.spec("JSON-LD 1.1 API §9.4.1")
@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/context.jsonld",
        "https://www.w3.org/ns/activitystreams/",
        "https://w3id.org/security/v2",
        "https://w3id.org/security/data-integrity/v1",
        "https://schema.org/",
    ],
)
def test_loader_refuses_unknown_urls(url: str, no_network: list[str]) -> None:
    with pytest.raises(JsonLdError, match="not bundled"):
        jsonld.document_loader(url)


@pytest.mark.spec("JSON-LD 1.1 API §9.4.1")
@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "data:application/ld+json,{}",
        "ftp://www.w3.org/ns/activitystreams",
        "urn:example:context",
        "activitystreams",
        "//www.w3.org/ns/activitystreams",
    ],
)
def test_loader_refuses_non_http_schemes(url: str, no_network: list[str]) -> None:
    with pytest.raises(JsonLdError, match="only http"):
        jsonld.document_loader(url)


@pytest.mark.spec("JSON-LD 1.1 API §9.4.1")
def test_loader_refuses_non_strings() -> None:
    with pytest.raises(JsonLdError, match="URL string"):
        jsonld.document_loader(42)  # type: ignore[arg-type]


@pytest.mark.spec("AS 2.0 Core §4.1")
def test_expand_activitystreams_note_offline(no_network: list[str]) -> None:
    note = {
        "@context": ACTIVITYSTREAMS_CONTEXT,
        "id": "https://a.example/notes/1",
        "type": "Note",
        "content": "Bike to lend",
        "attributedTo": "https://a.example/users/ana",
        "to": "https://www.w3.org/ns/activitystreams#Public",
    }
    (expanded,) = jsonld.expand(note)
    assert expanded["@id"] == "https://a.example/notes/1"
    assert expanded["@type"] == [f"{AS}Note"]
    assert _expanded_values(expanded, f"{AS}content") == ["Bike to lend"]
    assert _expanded_values(expanded, f"{AS}attributedTo") == ["https://a.example/users/ana"]
    assert _expanded_values(expanded, f"{AS}to") == [f"{AS}Public"]


@pytest.mark.spec("FEP-8b32 Example")
def test_expand_fep_8b32_signed_document_offline(no_network: list[str]) -> None:
    (expanded,) = jsonld.expand(FEP_8B32["signed"])
    assert expanded["@type"] == [f"{AS}Create"]
    (proof_graph,) = expanded[f"{SEC}proof"]
    (proof,) = proof_graph["@graph"]
    assert proof["@type"] == [f"{SEC}DataIntegrityProof"]
    assert _expanded_values(proof, f"{SEC}cryptosuite") == ["eddsa-jcs-2022"]
    assert _expanded_values(proof, f"{SEC}verificationMethod") == [
        "https://server.example/users/alice#ed25519-key"
    ]
    (place,) = expanded[f"{AS}object"][0][f"{AS}location"]
    assert _expanded_values(place, f"{AS}latitude") == [25.273962]


@pytest.mark.spec("FEP-8b32 Example")
def test_expand_fep_8b32_actor_with_multikey_offline(no_network: list[str]) -> None:
    (expanded,) = jsonld.expand(FEP_8B32["actor"])
    # None of the example's three contexts defines assertionMethod at the top level
    # (Data Integrity scopes it under proofPurpose), so AS's "@vocab": "_:" turns it
    # into a blank-node property. Readers must not expect sec:assertionMethod here.
    assert f"{SEC}assertionMethod" not in expanded
    (method,) = expanded["_:assertionMethod"]
    assert method["@type"] == [f"{SEC}Multikey"]
    assert _expanded_values(method, f"{SEC}publicKeyMultibase") == [
        FEP_8B32["actor"]["assertionMethod"][0]["publicKeyMultibase"]
    ]


@pytest.mark.spec("VC-DATA-MODEL-2.0 §4.3")
def test_expand_vc_vector_document_offline(no_network: list[str]) -> None:
    (expanded,) = jsonld.expand(VC_VECTOR["unsignedDocument"])
    assert expanded["@type"] == [
        f"{CRED}VerifiableCredential",
        "https://www.w3.org/ns/credentials/examples#AlumniCredential",
    ]
    (subject,) = expanded[f"{CRED}credentialSubject"]
    assert _expanded_values(subject, "https://www.w3.org/ns/credentials/examples#alumniOf") == [
        "The School of Examples"
    ]
    assert _expanded_values(expanded, f"{CRED}validFrom") == ["2023-01-01T00:00:00Z"]


@pytest.mark.spec("VC-DI-EDDSA §3.3")
@pytest.mark.parametrize("name", sorted(VC_VECTOR["vectors"]))
def test_expand_vc_vector_proof_configurations_offline(name: str, no_network: list[str]) -> None:
    (expanded,) = jsonld.expand(VC_VECTOR["vectors"][name]["proofConfig"])
    assert expanded["@type"] == [f"{SEC}DataIntegrityProof"]


@pytest.mark.spec("JSON-LD 1.1 API §4.2")
def test_compact_reverses_expand() -> None:
    body = {
        "id": "https://a.example/activities/1",
        "type": "Create",
        "actor": "https://a.example/users/ana",
        "object": {"id": "https://a.example/notes/1", "type": "Note", "content": "Drill"},
    }
    context = [ACTIVITYSTREAMS_CONTEXT, DATA_INTEGRITY_CONTEXT]
    compacted = jsonld.compact(jsonld.expand({"@context": context, **body}), context)
    assert compacted == {"@context": context, **body}


@pytest.mark.spec("JSON-LD 1.1 API §9.4.1")
def test_expand_with_unknown_context_raises_our_error(no_network: list[str]) -> None:
    document = {"@context": "https://evil.example/ctx", "type": "Note"}
    with pytest.raises(JsonLdError, match=r"evil\.example/ctx.*not bundled"):
        jsonld.expand(document)


@pytest.mark.spec("JSON-LD 1.1 API §4.1")
def test_invalid_documents_raise_our_error() -> None:
    with pytest.raises(JsonLdError, match="invalid local context"):
        jsonld.expand({"@context": 5, "type": "Note"})
    with pytest.raises(JsonLdError):
        jsonld.compact({"@context": ACTIVITYSTREAMS_CONTEXT, "@id": 7}, ACTIVITYSTREAMS_CONTEXT)


@pytest.mark.spec("JSON-LD 1.1 API §4.1")
def test_hostile_nesting_raises_limit_error() -> None:
    document: dict[str, Any] = {"type": "Note"}
    for _ in range(5000):
        document = {"type": "Announce", "object": document}
    document["@context"] = ACTIVITYSTREAMS_CONTEXT
    with pytest.raises(LimitError):
        jsonld.expand(document)


@pytest.mark.spec("JSON-LD 1.1 API §9.4.1")
def test_repeated_calls_reuse_resolved_contexts(monkeypatch: pytest.MonkeyPatch) -> None:
    document = {
        "@context": [ACTIVITYSTREAMS_CONTEXT, SECURITY_V1_CONTEXT],
        "type": "Person",
        "publicKey": {"id": "https://a.example/users/ana#main-key"},
    }
    warm = jsonld.expand(document)

    def must_not_load(iri: str) -> dict[str, Any]:
        raise AssertionError(f"context {iri} was loaded again")

    monkeypatch.setattr(jsonld, "load_context", must_not_load)
    assert jsonld.expand(document) == warm


@pytest.mark.spec("JSON-LD 1.1 API §9.4.1")
def test_loader_options_carry_the_offline_loader() -> None:
    options = jsonld.loader_options(base="https://a.example/")
    assert options == {"base": "https://a.example/", "documentLoader": jsonld.document_loader}
    (expanded,) = pyld_jsonld.expand({"@context": ACTIVITYSTREAMS_CONTEXT, "type": "Note"}, options)
    assert expanded["@type"] == [f"{AS}Note"]


@pytest.mark.spec("JSON-LD 1.1 API §9.4.1")
def test_install_makes_pyld_default_loader_offline(
    monkeypatch: pytest.MonkeyPatch, no_network: list[str]
) -> None:
    monkeypatch.setattr(pyld_jsonld, "_default_document_loader", pyld_jsonld.get_document_loader())
    jsonld.install_document_loader()
    assert pyld_jsonld.get_document_loader() is jsonld.document_loader
    with pytest.raises(pyld_jsonld.JsonLdError) as raised:
        pyld_jsonld.expand({"@context": "https://remote.example/ctx", "type": "Note"})
    assert isinstance(raised.value.__cause__, JsonLdError)


FRESH_IMPORT_CHECK = """
import json, sys
import protocol.normalize
import pyld.jsonld
try:
    pyld.jsonld.get_document_loader()("https://www.w3.org/ns/activitystreams", {})
    default_refuses = False
except pyld.jsonld.JsonLdError:
    default_refuses = True
print(json.dumps({
    "http_clients": sorted({"aiohttp", "requests"} & {m.split(".")[0] for m in sys.modules}),
    "default_refuses": default_refuses,
}))
"""


@pytest.mark.spec("JSON-LD 1.1 API §9.4.1")
def test_importing_jsonld_support_loads_no_http_client() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", FRESH_IMPORT_CHECK],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(completed.stdout) == {"http_clients": [], "default_refuses": True}
