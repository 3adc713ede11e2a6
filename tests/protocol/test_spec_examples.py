"""SPEC.md is machine-checked: its examples, its state diagram, its terms and its keys.

Every ```json block follows an ``<!-- example: <schema> [signed] -->`` comment;
each must parse as I-JSON and validate against its schema, and every object in
it that carries a proof must verify end to end against the actor documents
the same file shows. The ```http requests must verify too, and the Mermaid
diagram must be exactly :data:`protocol.exchange_states.TRANSITIONS`.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from protocol import (
    ExchangeMode,
    ProofError,
    SignatureError,
    check_key_ownership,
    load_public_key_pem,
    multikey_encode,
    parse_json,
    private_key_multibase_decode,
    validate,
    verify_authored_object,
    verify_proof_set,
    verify_request,
)
from protocol.contexts import load_context
from protocol.exchange_states import RETURNABLE_HANDOVER_STATE, TERMINAL_STATES, TRANSITIONS
from protocol.key_ownership import document_authors
from protocol.namespaces import KULA_CONTEXT
from protocol.validation import schema_names
from protocol.vocab import KULA_TERMS

REPOSITORY = Path(__file__).parents[2]
SPEC = (REPOSITORY / "protocol" / "SPEC.md").read_text(encoding="utf-8")
VECTORS = REPOSITORY / "tests" / "vectors"

EXAMPLE = re.compile(r"<!-- example: ([a-z0-9-]+)( signed)? -->\n```json\n(.*?)\n```", re.S)
HTTP_BLOCK = re.compile(r"```http\n(.*?)\n```", re.S)
MERMAID = re.compile(r"```mermaid\nstateDiagram-v2\n(.*?)\n```", re.S)
EDGE = re.compile(r"(\w+) --> (\w+): (\w+) \(([a-z, ]+)\)")
#: Hosts an example may name besides example.org ones: the vocabularies it uses.
STANDARD_HOSTS = frozenset({
    "www.w3.org", "w3id.org", "kula.community", "spec.edmcouncil.org", "www.wikidata.org",
})


def _examples() -> list[tuple[str, bool, dict[str, Any]]]:
    found = []
    for schema, signed, text in EXAMPLE.findall(SPEC):
        document = parse_json(text)
        assert isinstance(document, dict)
        found.append((schema, bool(signed), document))
    return found


EXAMPLES = _examples()
ACTORS = {doc["id"]: doc for schema, _, doc in EXAMPLES if schema == "actor"}
IDS = [f"{index}-{schema}" for index, (schema, _, _) in enumerate(EXAMPLES)]


def _signed_parts(value: Any) -> Iterator[dict[str, Any]]:
    """Every object in ``value`` that carries a proof, outermost first."""
    if isinstance(value, dict):
        if "proof" in value:
            yield value
        for name, member in value.items():
            if name != "proof":
                yield from _signed_parts(member)
    elif isinstance(value, list):
        for item in value:
            yield from _signed_parts(item)


def _owner_of(verification_method: str) -> dict[str, Any]:
    for actor in ACTORS.values():
        if any(entry.get("id") == verification_method for entry in actor["assertionMethod"]):
            return actor
    raise AssertionError(f"no actor example lists {verification_method}")


def _agreement_parties(agreement: dict[str, Any]) -> set[str]:
    return {
        commitment[role]
        for commitment in (agreement.get("stipulates"), agreement.get("stipulatesReciprocal"))
        if commitment
        for role in ("provider", "receiver")
    }


def _verify_signed(document: dict[str, Any]) -> list[str]:
    """Verify ``document``'s proofs as SPEC §13 demands; return who signed.

    An Agreement's authors are its parties (§13.3); it is signed by the
    offerer alone inside an Offer, and by both once accepted.
    """
    if document.get("type") != "Agreement":
        (author,) = document_authors(document)
        verify_authored_object(document, ACTORS[author])
        return [author]
    proofs = document["proof"] if isinstance(document["proof"], list) else [document["proof"]]
    methods = [proof["verificationMethod"] for proof in proofs]
    owners = [_owner_of(method) for method in methods]
    keys = {m: check_key_ownership(m, owner) for m, owner in zip(methods, owners, strict=True)}
    verify_proof_set(document, keys)
    signers = [owner["id"] for owner in owners]
    assert set(signers) <= _agreement_parties(document), "only the parties sign an Agreement"
    return signers


@pytest.mark.spec("Kula SPEC Appendix B: every JSON example names its schema")
def test_every_json_block_is_a_tagged_example() -> None:
    assert SPEC.count("```json") == len(EXAMPLES) > 30


@pytest.mark.spec("Kula SPEC Appendix B: examples validate")
@pytest.mark.parametrize(("schema", "signed", "document"), EXAMPLES, ids=IDS)
def test_example_validates_and_its_proofs_verify(
    schema: str, signed: bool, document: dict[str, Any]
) -> None:
    validate(document, schema)
    parts = list(_signed_parts(document))
    assert bool(parts) is signed, "the 'signed' tag must match whether the example has proofs"
    for part in parts:
        _verify_signed(part)


@pytest.mark.spec("Kula SPEC §13.1: eddsa-jcs-2022")
@pytest.mark.parametrize(
    ("schema", "signed", "document"),
    [e for e in EXAMPLES if e[1]],
    ids=[i for i, e in zip(IDS, EXAMPLES, strict=True) if e[1]],
)
def test_tampering_with_a_signed_example_breaks_it(
    schema: str, signed: bool, document: dict[str, Any]
) -> None:
    for index in range(len(list(_signed_parts(document)))):
        tampered = copy.deepcopy(document)
        part = list(_signed_parts(tampered))[index]
        part["id"] = part["id"] + "-forged"
        with pytest.raises(ProofError):
            _verify_signed(part)


@pytest.mark.spec("Kula SPEC §13.3: the signer is the author")
def test_a_proof_by_another_members_key_is_refused() -> None:
    listing = next(doc for schema, _, doc in EXAMPLES if schema == "proposal")
    (author,) = document_authors(listing)
    other = next(actor for iri, actor in ACTORS.items() if iri != author)
    with pytest.raises(ProofError):
        verify_authored_object(listing, other)


@pytest.mark.spec("Kula SPEC §3.3: signed objects are embedded verbatim")
def test_embedded_signed_objects_keep_context_and_proof() -> None:
    embedded = [
        part
        for _, _, document in EXAMPLES
        for part in _signed_parts(document)
        if part is not document
    ]
    assert len(embedded) >= 5
    for part in embedded:
        assert "@context" in part and "proof" in part


@pytest.mark.spec("Kula SPEC §4-§12: every object and activity has an example")
def test_the_examples_cover_every_kind_of_document() -> None:
    schemas = {schema for schema, _, _ in EXAMPLES}
    assert {
        "actor", "proposal", "intent", "offer", "accept", "reject", "undo", "handover",
        "return", "complete", "cancel", "no-show", "dispute", "attestation", "create",
        "update", "delete", "follow", "announce", "flag", "note",
    } <= schemas
    modes = {doc.get("exchangeMode") for schema, _, doc in EXAMPLES if schema == "proposal"}
    assert modes == {mode.value for mode in ExchangeMode}
    offers = [doc for schema, _, doc in EXAMPLES if schema == "offer"]
    assert any(offer["inReplyTo"] in {o["id"] for o in offers} for offer in offers)
    assert any(doc["actor"] and doc["type"] == "Announce" and ACTORS[doc["actor"]]["type"]
               == "Group" for schema, _, doc in EXAMPLES if schema == "announce")
    tombstones = [doc["object"] for schema, _, doc in EXAMPLES if schema == "delete"]
    assert any(isinstance(t, dict) and t["type"] == "Tombstone" for t in tombstones)
    for actor in ACTORS.values():
        assert actor["publicKey"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
        assert actor["assertionMethod"][0]["type"] == "Multikey"


@pytest.mark.spec("Kula SPEC §11.2: attestations bind to an agreement signed by both")
def test_attestation_examples_bind_to_the_signed_agreement() -> None:
    agreements = {
        part["id"]: part
        for _, _, document in EXAMPLES
        for part in _signed_parts(document)
        if part.get("type") == "Agreement" and isinstance(part["proof"], list)
    }
    attestations = [doc for schema, _, doc in EXAMPLES if schema == "attestation"]
    assert len(attestations) >= 2
    for attestation in attestations:
        subject = attestation["credentialSubject"]
        agreement = agreements[subject["agreement"]]
        signers = _verify_signed(agreement)
        assert set(signers) == _agreement_parties(agreement), "both parties must sign"
        assert _verify_signed(attestation) == [attestation["issuer"]]
        assert {attestation["issuer"], subject["id"]} == set(signers)
    revised = [a for a in attestations if "supersedes" in a]
    assert revised
    for revision in revised:
        earlier = next(a for a in attestations if a["id"] == revision["supersedes"])
        assert earlier["issuer"] == revision["issuer"]
        assert earlier["validFrom"] < revision["validFrom"]


@pytest.mark.spec("Kula SPEC §8.3: the accepted Agreement is the offered one plus a proof")
def test_accept_result_is_the_offered_agreement_countersigned() -> None:
    offers = {doc["id"]: doc for schema, _, doc in EXAMPLES if schema == "offer"}
    accepts = [doc for schema, _, doc in EXAMPLES if schema == "accept" and "result" in doc]
    assert accepts
    for accept in accepts:
        offered = offers[accept["object"]]["object"]
        result = accept["result"]
        assert {k: v for k, v in result.items() if k != "proof"} == {
            k: v for k, v in offered.items() if k != "proof"
        }
        assert result["proof"][: 1] == [offered["proof"]]


@pytest.mark.spec("Kula SPEC §2: example hosts")
def test_examples_name_only_example_hosts() -> None:
    urls = re.findall(r"https?://[^\s\"'`<>)]+", "\n".join(
        text for _, _, text in EXAMPLE.findall(SPEC)
    ) + "\n".join(HTTP_BLOCK.findall(SPEC)))
    hosts = {urlsplit(url).hostname for url in urls}
    assert hosts
    assert {h for h in hosts if not (h or "").endswith("example.org")} <= STANDARD_HOSTS


def _edges_in_spec() -> set[tuple[str, str, str, frozenset[str]]]:
    (diagram,) = MERMAID.findall(SPEC)
    edges = set()
    for line in diagram.splitlines():
        line = line.strip()
        if "[*]" in line:
            continue
        match = EDGE.fullmatch(line)
        assert match, f"unreadable diagram line {line!r}"
        source, target, activity, roles = match.groups()
        edges.add((source, activity, target, frozenset(roles.split(", "))))
    return edges


@pytest.mark.spec("Kula SPEC §9.1: the state diagram is the transition table")
def test_state_diagram_matches_the_transition_table() -> None:
    expected: dict[tuple[str, str, str], set[str]] = {}
    for (source, activity), targets in TRANSITIONS.items():
        for role, target in targets.items():
            expected.setdefault((source.value, activity, target.value), set()).add(role.value)
    returnable = ("agreed", "Handover", RETURNABLE_HANDOVER_STATE.value)
    expected[returnable] = {"proposer", "responder"}
    assert _edges_in_spec() == {(s, a, t, frozenset(r)) for (s, a, t), r in expected.items()}
    (diagram,) = MERMAID.findall(SPEC)
    ends = set(re.findall(r"(\w+) --> \[\*\]", diagram))
    assert ends == {state.value for state in TERMINAL_STATES}
    assert re.search(r"\[\*\] --> new\b", diagram)


@pytest.mark.spec("Kula SPEC §4: every term of the Kula context is specified")
def test_every_context_term_appears_in_the_spec() -> None:
    terms = [t for t in load_context(KULA_CONTEXT)["@context"] if not t.startswith("@")]
    missing = [term for term in terms if f"`{term}`" not in SPEC]
    assert missing == []
    for term, definition in KULA_TERMS.items():
        assert f"| `{term}` | {definition} |" in SPEC


@pytest.mark.spec("Kula SPEC Appendix A: example keys")
def test_appendix_keys_are_the_actors_keys() -> None:
    vector = json.loads((VECTORS / "vc_di_eddsa_jcs_2022.json").read_text(encoding="utf-8"))
    rows = re.findall(r"\| `(\S+#ed25519-key)` \| `(z\w+)` \| `(z\w+)` \|", SPEC)
    assert {method for method, _, _ in rows} == {
        entry["id"] for actor in ACTORS.values() for entry in actor["assertionMethod"]
    }
    for method, secret, public in rows:
        public_key = private_key_multibase_decode(secret).public_key()
        assert multikey_encode(public_key) == public
        assert _owner_of(method)["assertionMethod"][0]["publicKeyMultibase"] == public
    assert vector["keyPair"]["privateKeyMultibase"] in {secret for _, secret, _ in rows}


def _http_requests() -> list[tuple[str, str, dict[str, str], bytes]]:
    requests = []
    for block in HTTP_BLOCK.findall(SPEC):
        head, _, body = block.partition("\n\n")
        request_line, *field_lines = head.splitlines()
        method, path, _ = request_line.split(" ")
        fields = dict(line.split(": ", 1) for line in field_lines)
        requests.append((method, f"https://{fields['Host']}{path}", fields, body.encode()))
    return requests


async def _resolve_from_actor_examples(key_id: str, refresh: bool) -> Any:
    for actor in ACTORS.values():
        if actor["publicKey"]["id"] == key_id:
            return load_public_key_pem(actor["publicKey"]["publicKeyPem"])
    return None


@pytest.mark.spec("Kula SPEC §14: HTTP signature examples verify")
async def test_http_examples_verify() -> None:
    requests = _http_requests()
    schemes = set()
    for method, url, fields, body in requests:
        now = parsedate_to_datetime(fields["Date"])
        verified = await verify_request(
            method, url, fields, body, key_resolver=_resolve_from_actor_examples, now=now
        )
        assert ACTORS[parse_json(body)["actor"]]["publicKey"]["id"] == verified.key_id
        schemes.add(verified.scheme)
        with pytest.raises(SignatureError):
            await verify_request(
                method, url, fields, body.replace(b"Follow", b"Block"),
                key_resolver=_resolve_from_actor_examples, now=now,
            )
    assert schemes == {"cavage", "rfc9421"}


@pytest.mark.spec("Kula SPEC Appendix B: schemas")
def test_appendix_b_names_every_protocol_schema() -> None:
    appendix = SPEC.split("## Appendix B", 1)[1]
    named = set(re.findall(r"`([a-z0-9-]+)`", appendix))
    protocol_schemas = {name for name in schema_names() if not name.startswith("api-")}
    assert protocol_schemas <= named
    assert {schema for schema, _, _ in EXAMPLES} <= protocol_schemas
