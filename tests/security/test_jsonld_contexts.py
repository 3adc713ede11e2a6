"""JSON-LD contexts Kula does not bundle: refused by normalisation, never
fetched, and read by their plain terms where the node needs them.

The decision (THREAT_MODEL.md, "JSON-LD contexts"): :func:`protocol.normalize`
stays strict, because without a context's text no processor can say what its
terms mean, and guessing would make Kula read a document differently from a
JSON-LD processor. The node needs no such guess: activities are read as plain
JSON (their schemas name the terms), and an actor document whose contexts
cannot all be processed offline is read by its plain terms as written, which
is how the rest of the fediverse reads it. Kula's signatures (HTTP signatures,
eddsa-jcs-2022 proofs) sign JSON, not RDF, so no context can change what a
signature covers. The context URL itself is never requested.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from protocol.errors import JsonLdError
from protocol.normalize import normalize
from tests.security.attacks import activity, signed
from tests.security.forged_actors import AS, ED_KEY, ROGUE_KEY, SECURITY, served_actor
from tests.security.scene import EVIL, Scene, close_scene, make_scene

IN_SCENE = pytest.mark.asyncio(loop_scope="module")
GOTOSOCIAL = "https://gotosocial.org/ns"
IDENTITY = "https://w3id.org/identity/v1"
CID = "https://www.w3.org/ns/cid/v1"


@pytest.mark.spec("JSON-LD 1.1 API §9.4.1; Kula THREAT_MODEL.md: JSON-LD contexts")
@pytest.mark.parametrize(
    "context", ["https://pleroma.example/schemas/litepub-0.1.jsonld", GOTOSOCIAL, IDENTITY, CID,
                "http://127.0.0.1:9/context.jsonld"],
)
def test_normalisation_refuses_contexts_it_does_not_bundle(context: str) -> None:
    # The loader refuses without opening a socket (tests/protocol/test_jsonld.py checks that).
    with pytest.raises(JsonLdError, match="not bundled"):
        normalize({"@context": [AS, context], "type": "Note", "content": "x"})


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def scene(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Scene]:
    built = await make_scene(Path(tmp_path_factory.mktemp("context-scene")))
    try:
        yield built
    finally:
        await close_scene(built)


ACTOR_CONTEXTS = {
    "pleroma": lambda scene: [AS, SECURITY, scene.evil.url("/schemas/litepub-0.1.jsonld", EVIL),
                              {"@language": "und"}],
    "gotosocial": lambda scene: [AS, SECURITY, GOTOSOCIAL],
    "identity": lambda scene: [AS, IDENTITY, SECURITY],
    "cid": lambda scene: [AS, CID, "https://w3id.org/security/data-integrity/v1"],
    "internal": lambda scene: [AS, SECURITY, scene.canary.url("/context.jsonld")],
}


@IN_SCENE
@pytest.mark.spec("Kula THREAT_MODEL.md: JSON-LD contexts")
@pytest.mark.parametrize("server", list(ACTOR_CONTEXTS))
@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_actors_with_unbundled_contexts_are_read_and_their_contexts_never_fetched(
    scene: Scene, server: str, scheme: str
) -> None:
    name = f"{server}-{scheme}"
    iri = served_actor(scene, name, context=ACTOR_CONTEXTS[server](scene))
    announce = activity(scene, "Announce", iri, scene.iris["carol_listing"])
    announce["id"] = scene.evil.url(f"/activities/{name}", EVIL)
    key_id, key = (f"{iri}#main-key", ROGUE_KEY) if scheme == "cavage" else \
        (f"{iri}#ed25519-key", ED_KEY)
    request = signed(scene, "bob", announce, key_id=key_id, private_key=key, scheme=scheme)

    status, body = await scene.post(request.body, request.headers)

    assert status == 202, body
    await scene.settle_victim()
    assert (await scene.outcome(announce["id"]))[0] == "ignored: nobody here follows the announcer"
    assert [hit for hit in scene.evil.hits if "context" in hit or "schemas" in hit] == []
    assert scene.canary.hits == []


@IN_SCENE
@pytest.mark.spec("Kula THREAT_MODEL.md: JSON-LD contexts")
@pytest.mark.parametrize(
    "context",
    [[AS, GOTOSOCIAL], [AS, IDENTITY, {"toot": "http://joinmastodon.org/ns#"}], [AS, CID],
     [AS, "http://127.0.0.1:9/ctx.jsonld"], [{"@vocab": "https://evil.example/#"}]],
)
async def test_activities_with_unbundled_contexts_are_read_as_plain_json(
    scene: Scene, context: list[Any]
) -> None:
    announce = activity(scene, "Announce", "dave", scene.iris["carol_listing"])
    announce["@context"] = context
    request = signed(scene, "dave", announce)
    status, body = await scene.post(request.body, request.headers)
    assert status == 202, body
    await scene.settle_victim()
    assert (await scene.outcome(announce["id"]))[0] == "ignored: nobody here follows the announcer"
    assert scene.canary.hits == []
