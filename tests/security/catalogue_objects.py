"""Attacks on what an activity says: objects of other origins and forged
Announce, Update, Delete, Accept (and kin) of other actors' objects.

Each is signed by a real attacker member, so only the content is forged.
Most pass the door (the signature is good) and must be rejected or ignored
by the worker; those that name an object of another origin without its
author's proof are refused at the door.
"""

from __future__ import annotations

import json
from typing import Any

from protocol import builders
from tests.security.attacks import (
    FORGED,
    ORIGIN,
    Recorded,
    Refused,
    Request,
    activity,
    attack,
    proposal,
    signed,
)
from tests.security.scene import EVIL, Scene

FORBIDDEN = Refused(403, "forbidden")
REJECTED = Recorded("rejected")
IGNORED = Recorded("ignored")


def _new_listing(scene: Scene, host_url: str) -> str:
    return f"{host_url}/listings/{scene.unique('l')}"


# --- objects claiming another origin ----------------------------------------------


@attack(ORIGIN, FORBIDDEN)
async def create_of_a_listing_on_the_victims_origin(scene: Scene) -> Request:
    obj = proposal(scene, "bob", _new_listing(scene, scene.victim.url))
    return signed(scene, "bob", activity(scene, "Create", "bob", obj))


@attack(ORIGIN, FORBIDDEN)
async def create_of_a_listing_on_a_third_origin_with_bobs_proof(scene: Scene) -> Request:
    obj = scene.proof(scene.actors["bob"], proposal(
        scene, "bob", _new_listing(scene, scene.evil.url("", EVIL))
    ))
    return signed(scene, "bob", activity(scene, "Create", "bob", obj))


@attack(ORIGIN, FORBIDDEN)
async def update_of_a_victim_listing_with_bobs_proof(scene: Scene) -> Request:
    alice = scene.victim.actor("alice")
    obj = scene.proof(scene.actors["bob"], proposal(
        scene, alice, scene.iris["alice_listing"], title="Stolen"
    ))
    return signed(scene, "bob", activity(scene, "Update", "bob", obj))


@attack(ORIGIN, FORBIDDEN)
async def create_of_a_victim_origin_listing_by_a_member_who_does_not_exist(
    scene: Scene,
) -> Request:
    # Refused as unacceptable, not answered 404 as if the inbox were missing.
    nobody = scene.victim.actor(scene.unique("nobody"))
    obj = scene.proof(scene.actors["bob"], proposal(
        scene, nobody, _new_listing(scene, scene.victim.url)
    ))
    return signed(scene, "bob", activity(scene, "Create", "bob", obj))


@attack(ORIGIN, FORBIDDEN)
async def create_of_a_third_origin_listing_by_an_author_its_server_does_not_know(
    scene: Scene,
) -> Request:
    ghost = scene.evil.url(f"/users/{scene.unique('ghost')}", EVIL)
    obj = scene.proof(scene.actors["bob"], proposal(
        scene, ghost, _new_listing(scene, scene.evil.url("", EVIL))
    ))
    return signed(scene, "bob", activity(scene, "Create", "bob", obj))


@attack(ORIGIN, FORBIDDEN)
async def activity_id_on_another_origin(scene: Scene) -> Request:
    forged = activity(scene, "Announce", "bob", scene.iris["carol_listing"])
    forged["id"] = f"{scene.victim.url}/activities/{scene.unique('a')}"
    return signed(scene, "bob", forged)


@attack(ORIGIN, REJECTED)
async def create_of_a_listing_attributed_to_carol_by_bob(scene: Scene) -> Request:
    obj = scene.proof(scene.actors["bob"], proposal(
        scene, "carol", _new_listing(scene, scene.attacker.url)
    ))
    return signed(scene, "bob", activity(scene, "Create", "bob", obj))


@attack(ORIGIN, REJECTED)
async def update_of_carols_listing_by_bob(scene: Scene) -> Request:
    obj = scene.proof(scene.actors["bob"], proposal(
        scene, "carol", scene.iris["carol_listing"], title="Hijacked"
    ))
    return signed(scene, "bob", activity(scene, "Update", "bob", obj))


@attack(ORIGIN, REJECTED)
async def update_taking_over_carols_listing_as_bob(scene: Scene) -> Request:
    # Same origin, bob's own valid proof, but the listing is carol's.
    obj = scene.proof(scene.actors["bob"], proposal(
        scene, "bob", scene.iris["carol_listing"], title="Mine now"
    ))
    return signed(scene, "bob", activity(scene, "Update", "bob", obj))


@attack(ORIGIN, REJECTED)
async def update_of_carols_listing_without_proof(scene: Scene) -> Request:
    obj = proposal(scene, "carol", scene.iris["carol_listing"], title="Unsigned")
    return signed(scene, "carol", activity(scene, "Update", "carol", obj))


@attack(ORIGIN, IGNORED)
async def reply_note_attributed_to_carol_by_bob(scene: Scene) -> Request:
    note = {
        "id": f"{scene.attacker.url}/notes/{scene.unique('n')}", "type": "Note",
        "attributedTo": scene.actors["carol"].iri, "inReplyTo": scene.iris["alice_listing"],
        "content": "<p>Is it still there?</p>",
    }
    return signed(scene, "bob", activity(scene, "Create", "bob", note))


# --- forged Announce ----------------------------------------------------------------


@attack(FORGED, IGNORED)
async def announce_by_an_actor_nobody_here_follows(scene: Scene) -> Request:
    obj = proposal(scene, "dave", _new_listing(scene, scene.attacker.url))
    return signed(scene, "dave", activity(scene, "Announce", "dave", obj))


@attack(FORGED, REJECTED)
async def announce_of_carols_listing_without_her_proof(scene: Scene) -> Request:
    obj = proposal(scene, "carol", scene.iris["carol_listing"], title="Relayed lie")
    return signed(scene, "bob", activity(scene, "Announce", "bob", obj))


@attack(FORGED, REJECTED)
async def announce_of_a_victim_listing_with_bobs_proof(scene: Scene) -> Request:
    alice = scene.victim.actor("alice")
    obj = scene.proof(scene.actors["bob"], proposal(
        scene, alice, scene.iris["alice_listing"], title="Relayed lie"
    ))
    return signed(scene, "bob", activity(scene, "Announce", "bob", obj))


@attack(FORGED, REJECTED)
async def announce_of_the_victims_own_listing(scene: Scene) -> Request:
    # alice's genuine, signed listing relayed back to her own node.
    session = scene.victim.session
    assert session is not None
    path = scene.iris["alice_listing"].removeprefix(scene.victim.url)
    async with session.get(path, headers={"Accept": "application/activity+json"}) as response:
        document = json.loads(await response.text())
    assert "proof" in document, document
    return signed(scene, "bob", activity(scene, "Announce", "bob", document))


@attack(FORGED, REJECTED)
async def announce_of_a_create_whose_actor_is_not_the_author(scene: Scene) -> Request:
    listing = scene.proof(scene.actors["bob"], proposal(
        scene, "bob", _new_listing(scene, scene.attacker.url)
    ))
    inner = activity(scene, "Create", "carol", listing)
    return signed(scene, "bob", activity(scene, "Announce", "bob", inner))


@attack(FORGED, REJECTED)
async def announce_of_a_delete_of_a_victim_listing(scene: Scene) -> Request:
    inner = activity(scene, "Delete", "bob", scene.iris["alice_listing"])
    return signed(scene, "bob", activity(scene, "Announce", "bob", inner))


@attack(FORGED, REJECTED)
async def announce_of_a_delete_of_a_listing_that_still_exists(scene: Scene) -> Request:
    inner = activity(scene, "Delete", "carol", scene.iris["carol_listing"])
    return signed(scene, "bob", activity(scene, "Announce", "bob", inner))


# --- forged Delete, Accept, Reject, Undo, Update, Move ---------------------------------


@attack(FORGED, REJECTED)
async def delete_of_a_victim_listing(scene: Scene) -> Request:
    return signed(scene, "bob", activity(scene, "Delete", "bob", scene.iris["alice_listing"]))


@attack(FORGED, REJECTED)
async def delete_of_carols_listing_by_bob(scene: Scene) -> Request:
    tombstone = builders.tombstone(id=scene.iris["carol_listing"], former_type="Proposal")
    return signed(scene, "bob", activity(scene, "Delete", "bob", tombstone))


@attack(FORGED, REJECTED)
async def delete_of_a_victim_member(scene: Scene) -> Request:
    return signed(scene, "bob", activity(scene, "Delete", "bob", scene.victim.actor("alice")))


@attack(FORGED, REJECTED)
async def accept_of_a_follow_sent_to_dave(scene: Scene) -> Request:
    return signed(scene, "bob", activity(scene, "Accept", "bob", scene.iris["dave_follow"]))


@attack(FORGED, REJECTED)
async def reject_of_alices_follow_of_carol(scene: Scene) -> Request:
    return signed(scene, "bob", activity(scene, "Reject", "bob", scene.iris["carol_follow"]))


@attack(FORGED, REJECTED)
async def undo_of_alices_follow_of_carol(scene: Scene) -> Request:
    return signed(scene, "bob", activity(scene, "Undo", "bob", scene.iris["carol_follow"]))


@attack(FORGED, REJECTED)
async def update_of_carols_actor_by_bob(scene: Scene) -> Request:
    carol = {"id": scene.actors["carol"].iri, "type": "Person", "name": "Bob's puppet",
             "inbox": f"{scene.actors['carol'].iri}/inbox"}
    return signed(scene, "bob", activity(scene, "Update", "bob", carol))


@attack(FORGED, REJECTED)
async def move_of_a_victim_member(scene: Scene) -> Request:
    forged = activity(scene, "Move", "bob", scene.victim.actor("alice"),
                      target=scene.actors["bob"].iri)
    return signed(scene, "bob", forged)


@attack(FORGED, REJECTED)
async def move_to_an_account_that_does_not_name_bob(scene: Scene) -> Request:
    forged = activity(scene, "Move", "bob", scene.actors["bob"].iri,
                      target=scene.actors["carol"].iri)
    return signed(scene, "bob", forged)


def _agreement(
    scene: Scene, quantity: Any, provider: str, receiver: str, **commitment: Any
) -> dict[str, Any]:
    listing = scene.iris["alice_listing"]
    return builders.agreement(
        id=f"{scene.attacker.url}/agreements/{scene.unique('ag')}", exchange_mode="give",
        stipulates=builders.commitment(
            satisfies=f"{listing}#primary", action="transfer", provider=provider,
            receiver=receiver, resource_quantity={"hasUnit": "one", "hasNumericalValue": quantity},
            **commitment,
        ),
    )


def _offer_by_bob(scene: Scene, quantity: Any, **commitment: Any) -> Request:
    agreement = scene.proof(scene.actors["bob"], _agreement(
        scene, quantity, scene.victim.actor("alice"), scene.actors["bob"].iri, **commitment
    ))
    offer = activity(scene, "Offer", "bob", agreement, inReplyTo=scene.iris["alice_listing"])
    return signed(scene, "bob", offer)


@attack(FORGED, REJECTED)
async def offer_whose_agreement_nobody_signed(scene: Scene) -> Request:
    agreement = _agreement(scene, "1", scene.victim.actor("alice"), scene.actors["bob"].iri)
    offer = activity(scene, "Offer", "bob", agreement, inReplyTo=scene.iris["alice_listing"])
    return signed(scene, "bob", offer)


@attack(FORGED, REJECTED)
async def offer_naming_carol_as_a_party(scene: Scene) -> Request:
    agreement = scene.proof(scene.actors["bob"], _agreement(
        scene, "1", scene.victim.actor("alice"), scene.actors["carol"].iri
    ))
    offer = activity(scene, "Offer", "bob", agreement, inReplyTo=scene.iris["alice_listing"])
    return signed(scene, "bob", offer)


@attack(FORGED, Recorded("rejected", "does not match schema"))
async def offer_of_an_overflowing_quantity_string(scene: Scene) -> Request:
    return _offer_by_bob(scene, "1e999")


@attack(FORGED, Recorded("rejected", "quantity must be between"))
async def offer_of_a_quantity_no_listing_holds(scene: Scene) -> Request:
    return _offer_by_bob(scene, 1e300)


@attack(FORGED, Recorded("rejected", "unreadable"))
async def offer_with_an_impossible_date(scene: Scene) -> Request:
    return _offer_by_bob(scene, "1", has_beginning="2030-13-45T99:99:99Z")
