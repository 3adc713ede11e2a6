"""Attacks on who sent an activity: keys, signatures, replays and dates.

Every case is refused at the door (401/403/409) before anything is stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

from node.keys import load_rsa_private, rsa_public_pem
from protocol.httpsig import cavage
from protocol.httpsig.cavage import CavageSignature, format_signature_header
from protocol.httpsig.digest import make_digest_header
from protocol.httpsig.message import HttpMessage
from tests.security.attacks import (
    ALGORITHM,
    COVERAGE,
    KEY_OWNER,
    LOOKALIKE,
    MALFORMED_SIGNATURE,
    REPLAY,
    TAMPERED,
    Refused,
    Request,
    activity,
    attack,
    harmless,
    signed,
)
from tests.security.forged_actors import ROGUE_KEY, rsa_public_pem_of, served_actor
from tests.security.scene import EVIL, Scene

UNAUTHORIZED = Refused(401, "unauthorized")
UNKNOWN_KEY = Refused(401, "signature-invalid", "unknown-key")
BAD_SIGNATURE = Refused(401, "signature-invalid", "bad-signature")
MISSING_COMPONENT = Refused(401, "signature-invalid", "missing-component")
MALFORMED = Refused(401, "signature-invalid", "malformed-header")


# --- actor and key owner ---------------------------------------------------------


@attack(KEY_OWNER, UNAUTHORIZED)
async def activity_by_carol_signed_by_bob(scene: Scene) -> Request:
    return signed(scene, "bob", harmless(scene) | {"actor": scene.actors["carol"].iri})


@attack(KEY_OWNER, UNAUTHORIZED)
async def activity_by_a_victim_member_signed_by_bob(scene: Scene) -> Request:
    forged = activity(scene, "Announce", scene.victim.actor("alice"), scene.iris["alice_listing"])
    return signed(scene, "bob", forged)


@attack(KEY_OWNER, BAD_SIGNATURE)
async def victim_member_key_id_with_an_attacker_signature(scene: Scene) -> Request:
    alice_key = f"{scene.victim.actor('alice')}#main-key"
    forged = activity(scene, "Announce", scene.victim.actor("alice"), scene.iris["alice_listing"])
    return signed(scene, "bob", forged, key_id=alice_key)


@attack(KEY_OWNER, BAD_SIGNATURE)
async def bobs_key_id_with_a_rogue_key(scene: Scene) -> Request:
    return signed(scene, "bob", harmless(scene) | {"actor": scene.actors["bob"].iri},
                  private_key=ROGUE_KEY)


@attack(KEY_OWNER, UNKNOWN_KEY)
async def key_document_naming_bob_as_owner(scene: Scene) -> Request:
    # A key document elsewhere says "owner: bob"; bob's own document does not list it.
    key_id = scene.evil.url("/keys/1", EVIL) + "#key"
    scene.evil.serve_json("/keys/1", {
        "id": key_id, "owner": scene.actors["bob"].iri,
        "publicKeyPem": rsa_public_pem_of(ROGUE_KEY),
    })
    forged = activity(scene, "Announce", "bob", scene.iris["carol_listing"])
    return signed(scene, "bob", forged, key_id=key_id, private_key=ROGUE_KEY)


@attack(KEY_OWNER, Refused(401, "signature-invalid", "unknown-key"))
async def key_id_that_is_not_a_url(scene: Scene) -> Request:
    return signed(scene, "bob", harmless(scene) | {"actor": scene.actors["bob"].iri},
                  key_id="acct:bob@attacker.example")


# --- look-alike hosts ------------------------------------------------------------


@attack(LOOKALIKE, UNKNOWN_KEY)
async def bobs_actor_copied_to_a_lookalike_host(scene: Scene) -> Request:
    # evil.example serves "bob" (his real id) with a key of its own.
    key_id = scene.evil.url("/users/bob", EVIL) + "#main-key"
    served_actor(scene, "bob", claimed_id=scene.actors["bob"].iri, key_id=key_id)
    forged = activity(scene, "Announce", "bob", scene.iris["carol_listing"])
    return signed(scene, "bob", forged, key_id=key_id, private_key=ROGUE_KEY)


@attack(LOOKALIKE, UNKNOWN_KEY)
async def key_id_with_the_real_host_as_userinfo(scene: Scene) -> Request:
    key_id = f"http://{scene.attacker.host}@{EVIL}:{scene.evil.port}/users/bob#main-key"
    forged = activity(scene, "Announce", "bob", scene.iris["carol_listing"])
    return signed(scene, "bob", forged, key_id=key_id, private_key=ROGUE_KEY)


@attack(LOOKALIKE, UNKNOWN_KEY)
async def key_id_with_the_real_host_as_a_prefix(scene: Scene) -> Request:
    key_id = f"http://{scene.attacker.public_name}.{EVIL}:{scene.evil.port}/users/bob#main-key"
    forged = activity(scene, "Announce", "bob", scene.iris["carol_listing"])
    return signed(scene, "bob", forged, key_id=key_id, private_key=ROGUE_KEY)


@attack(LOOKALIKE, UNAUTHORIZED)
async def lookalike_actor_signing_for_the_real_one(scene: Scene) -> Request:
    # A self-consistent actor on evil.example signs an activity of bob's.
    iri = scene.evil.url("/users/bob2", EVIL)
    served_actor(scene, "bob2")
    forged = activity(scene, "Announce", "bob", scene.iris["carol_listing"])
    return signed(scene, "bob", forged, key_id=f"{iri}#main-key", private_key=ROGUE_KEY)


@attack(LOOKALIKE, UNKNOWN_KEY)
async def key_id_with_the_victims_base_url_as_a_prefix(scene: Scene) -> Request:
    key_id = f"{scene.victim.url}.{EVIL}/users/alice#main-key"
    forged = activity(scene, "Announce", "bob", scene.iris["carol_listing"])
    return signed(scene, "bob", forged, key_id=key_id, private_key=ROGUE_KEY)


# --- replay and dates --------------------------------------------------------------


@attack(REPLAY, Refused(409, "duplicate-activity"), send_first=True)
async def replayed_activity(scene: Scene) -> Request:
    return signed(scene, "dave", harmless(scene))


@attack(REPLAY, BAD_SIGNATURE)
async def replayed_to_another_inbox(scene: Scene) -> Request:
    request = signed(scene, "dave", harmless(scene))
    return Request(request.body, request.headers, path="/users/alice/inbox")


@attack(REPLAY, Refused(401, "signature-invalid", "date-out-of-window"))
async def stale_date(scene: Scene) -> Request:
    return signed(scene, "dave", harmless(scene), now=datetime.now(UTC) - timedelta(hours=1))


@attack(REPLAY, Refused(401, "signature-invalid", "date-out-of-window"))
async def future_date(scene: Scene) -> Request:
    return signed(scene, "dave", harmless(scene), now=datetime.now(UTC) + timedelta(hours=1))


@attack(REPLAY, Refused(401, "signature-invalid", "created-out-of-window"))
async def stale_created_rfc9421(scene: Scene) -> Request:
    old = datetime.now(UTC) - timedelta(hours=2)
    return signed(scene, "dave", harmless(scene), scheme="rfc9421", now=old)


@attack(REPLAY, Refused(401, "signature-invalid", "expired"))
async def expired_rfc9421(scene: Scene) -> Request:
    now = int(datetime.now(UTC).timestamp())
    return signed(scene, "dave", harmless(scene), scheme="rfc9421", created=now - 60,
                  expires=now - 30)


# --- bodies changed after signing ----------------------------------------------------


@attack(TAMPERED, Refused(401, "digest-mismatch", "digest-mismatch"))
async def body_changed_after_signing(scene: Scene) -> Request:
    request = signed(scene, "dave", harmless(scene))
    return Request(request.body.replace(b"Announce", b"Delete\x20\x20"), request.headers)


@attack(TAMPERED, BAD_SIGNATURE)
async def body_and_digest_changed_after_signing(scene: Scene) -> Request:
    request = signed(scene, "dave", harmless(scene))
    body = request.body.replace(b"Announce", b"Delete\x20\x20")
    return Request(body, {**request.headers, "Digest": make_digest_header(body)})


@attack(TAMPERED, Refused(401, "digest-mismatch", "digest-unsupported"))
async def digest_in_an_unknown_algorithm(scene: Scene) -> Request:
    document = harmless(scene)
    body = json.dumps(document).encode()
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    return signed(scene, "dave", document, body=body, extra_headers={"Digest": f"MD5={md5}"})


# --- coverage --------------------------------------------------------------------------


@attack(COVERAGE, MISSING_COMPONENT)
async def signature_without_the_digest(scene: Scene) -> Request:
    return signed(scene, "dave", harmless(scene), components=("(request-target)", "host", "date"))


@attack(COVERAGE, MISSING_COMPONENT)
async def signature_without_the_request_target(scene: Scene) -> Request:
    return signed(scene, "dave", harmless(scene), components=("host", "date", "digest"))


@attack(COVERAGE, MISSING_COMPONENT)
async def signature_without_host_or_date(scene: Scene) -> Request:
    return signed(scene, "dave", harmless(scene), components=("(request-target)", "digest"))


@attack(COVERAGE, MISSING_COMPONENT)
async def rfc9421_without_the_target_uri(scene: Scene) -> Request:
    return signed(scene, "dave", harmless(scene), scheme="rfc9421",
                  components=("@method", "@authority", "content-digest"))


@attack(COVERAGE, MISSING_COMPONENT)
async def rfc9421_without_the_content_digest(scene: Scene) -> Request:
    return signed(scene, "dave", harmless(scene), scheme="rfc9421",
                  components=("@method", "@target-uri", "@authority"))


# --- algorithm confusion ---------------------------------------------------------------


def _hmac_cavage(scene: Scene, algorithm: str | None) -> Request:
    """A cavage signature made with HMAC, keyed with dave's *public* key."""
    dave = scene.actors["dave"]
    request = signed(scene, "dave", harmless(scene))
    covered = ("(request-target)", "host", "date", "digest")
    message = HttpMessage.for_request("POST", f"{scene.victim.url}/inbox", request.headers)
    text = cavage.build_signing_string(message, covered).encode()
    secret = rsa_public_pem(dave.rsa_private_pem).encode()
    header = format_signature_header(CavageSignature(
        key_id=dave.rsa_key_id, signature=hmac.new(secret, text, hashlib.sha256).digest(),
        headers=covered, algorithm=algorithm, created=None, expires=None,
    ))
    return Request(request.body, {**request.headers, "Signature": header})


@attack(ALGORITHM, Refused(401, "signature-invalid", "unsupported-algorithm"))
async def hmac_with_the_public_key_cavage(scene: Scene) -> Request:
    return _hmac_cavage(scene, "hmac-sha256")


@attack(ALGORITHM, BAD_SIGNATURE)
async def hmac_with_the_public_key_under_hs2019(scene: Scene) -> Request:
    return _hmac_cavage(scene, "hs2019")


@attack(ALGORITHM, Refused(401, "signature-invalid", "algorithm-key-mismatch"))
async def hmac_with_the_public_key_rfc9421(scene: Scene) -> Request:
    dave = scene.actors["dave"]
    secret = rsa_public_pem(dave.rsa_private_pem).encode()
    return signed(scene, "dave", harmless(scene), scheme="rfc9421", private_key=secret,
                  algorithm="hmac-sha256")


@attack(ALGORITHM, Refused(401, "signature-invalid", "algorithm-key-mismatch"))
async def rsa_claimed_for_an_ed25519_key_rfc9421(scene: Scene) -> Request:
    dave = scene.actors["dave"]
    return signed(scene, "dave", harmless(scene), scheme="rfc9421", key_id=dave.ed25519_key_id,
                  private_key=load_rsa_private(dave.rsa_private_pem), algorithm="rsa-v1_5-sha256")


# --- malformed signature headers -------------------------------------------------------


def _with_signature(scene: Scene, value: str, name: str = "Signature") -> Request:
    request = signed(scene, "dave", harmless(scene))
    headers = {k: v for k, v in request.headers.items() if k.lower() != "signature"}
    return Request(request.body, {**headers, name: value})


MANGLED_SIGNATURES = {
    "garbage": "!!!",
    "no_key_id": 'algorithm="rsa-sha256",headers="date",signature="AAAA"',
    "unbalanced_quote": 'keyId="https://x/y,signature="AAAA',
    "signature_not_base64": 'keyId="{key}",headers="date",signature="%%%"',
    "repeated_parameter": 'keyId="{key}",keyId="{key}",headers="date",signature="AAAA"',
    "empty": "",
    "unknown_parameter_only": 'nonce="1"',
    "key_id_not_a_string": 'keyId=12,headers="(request-target) host date digest",signature="AA"',
}


def _mangled(kind: str, template: str) -> None:
    async def build(scene: Scene) -> Request:
        return _with_signature(scene, template.replace("{key}", scene.actors["dave"].rsa_key_id))

    build.__name__ = f"malformed_signature_{kind}"
    attack(MALFORMED_SIGNATURE, MALFORMED)(build)


for _kind, _template in MANGLED_SIGNATURES.items():
    _mangled(_kind, _template)


@attack(MALFORMED_SIGNATURE, Refused(401, "signature-invalid"))
async def signature_input_without_signature(scene: Scene) -> Request:
    request = signed(scene, "dave", harmless(scene), scheme="rfc9421")
    headers = {k: v for k, v in request.headers.items() if k.lower() != "signature"}
    return Request(request.body, headers)


@attack(MALFORMED_SIGNATURE, MALFORMED)
async def authorization_signature_with_garbage(scene: Scene) -> Request:
    return _with_signature(scene, 'Signature keyId="x",,,=', name="Authorization")


@attack(MALFORMED_SIGNATURE, Refused(400, None))
async def signature_header_beyond_the_server_limit(scene: Scene) -> Request:
    return _with_signature(scene, 'keyId="' + "a" * 20_000 + '"')
