"""Hypothesis strategies for activity-shaped JSON aimed at one scene.

Values are drawn from what the scene knows (its actors, listings, follows,
internal URLs) mixed with arbitrary JSON, so that generated activities reach
deep into the handlers instead of all failing the first check. Everything
drawn is valid I-JSON (no NaN, no lone surrogates, integers within 2**53),
because the parser's refusals are covered by the catalogue; here the worker
is the target.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from protocol import builders
from tests.security.scene import EVIL, REBIND, Scene

ACTIVITY_TYPES = [
    "Follow", "Accept", "Reject", "Undo", "Create", "Update", "Delete", "Announce", "Offer",
    "Handover", "Return", "Complete", "Cancel", "NoShow", "Dispute", "Move",
    "as:Create", "Like", "Question", "Flag",
]
OBJECT_TYPES = [
    "Note", "Proposal", "Agreement", "Person", "Group", "Tombstone", "Follow", "Create",
    "Update", "Delete", "Offer", "Intent", "Commitment", "VerifiableCredential", "Question",
    "Image", "Service", "as:Note", "Kula:Nothing",
]
HOSTILE_TEXT = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "javascript:alert(1)",
    "../../../../etc/passwd", "\u202egnp.exe", "\u0000", "ﬁ\u200b", "1e400", "NaN", "-0",
    "2030-13-45T99:99:99Z", "9999-12-31T23:59:59Z", "P99999999Y", "",
]
#: Each fits the schemas' date-time pattern; not every one is a real moment.
DATES = ["2024-05-01T10:00:00Z", "2030-13-45T99:99:99Z", "9999-12-31T23:59:59+14:00",
         "0001-01-01T00:00:00Z"]
SAFE_INTEGERS = st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)


def iris(scene: Scene) -> st.SearchStrategy[str]:
    """IRIs the scene knows, internal ones, and made-up ones on known origins."""
    known = [
        scene.iris["alice_listing"], scene.iris["carol_listing"], scene.iris["dave_follow"],
        scene.iris["carol_follow"], scene.victim.actor("alice"), scene.victim.url,
        *(actor.iri for actor in scene.actors.values()),
        f"{scene.victim.url}/users/community", f"{scene.victim.url}/actor",
        scene.canary.url("/x"), "http://169.254.169.254/latest/meta-data/",
        f"http://{REBIND}:{scene.canary.port}/x", scene.evil.url("/missing", EVIL),
        "http://unknown.example/x", "https://www.w3.org/ns/activitystreams#Public",
        *(scene.iris[key] for key in ("offer", "agreement") if key in scene.iris),
    ]
    made_up = st.builds(
        lambda origin, path: f"{origin}/{path}",
        st.sampled_from([scene.attacker.url, scene.victim.url, scene.evil.url("", EVIL)]),
        st.sampled_from(["listings", "users", "activities", "notes", "agreements"]).flatmap(
            lambda kind: st.text("abcxyz019", min_size=1, max_size=6).map(
                lambda tail: f"{kind}/{tail}"
            )
        ),
    )
    return st.one_of(st.sampled_from(known), made_up)


def scalars(scene: Scene) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(), st.booleans(), SAFE_INTEGERS,
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=40), st.sampled_from(HOSTILE_TEXT), iris(scene),
    )


def json_values(scene: Scene) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars(scene),
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.text(max_size=12), children, max_size=4),
        ),
        max_leaves=12,
    )


def objects(scene: Scene, depth: int = 2) -> st.SearchStrategy[dict[str, Any]]:
    """An object of some ActivityStreams, Kula or made-up type."""
    value = json_values(scene)
    inner: st.SearchStrategy[Any] = (
        st.one_of(iris(scene), value, objects(scene, depth - 1)) if depth > 0 else value
    )
    return st.fixed_dictionaries(
        {"type": st.one_of(st.sampled_from(OBJECT_TYPES), st.lists(
            st.sampled_from(OBJECT_TYPES), min_size=1, max_size=3))},
        optional={
            "id": iris(scene), "attributedTo": iris(scene), "actor": iris(scene),
            "inReplyTo": iris(scene), "context": iris(scene), "object": inner,
            "content": st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=60)),
            "name": st.one_of(st.sampled_from(HOSTILE_TEXT), value),
            "stipulates": inner, "publishes": inner, "credentialSubject": inner,
            "proof": value, "published": st.sampled_from(DATES),
            "alsoKnownAs": st.lists(iris(scene), max_size=2), "extra": value,
        },
    )


def activities(scene: Scene) -> st.SearchStrategy[dict[str, Any]]:
    """An activity by bob (who alice follows) or dave (whom nobody does)."""
    return st.fixed_dictionaries(
        {
            "type": st.one_of(st.sampled_from(ACTIVITY_TYPES), st.lists(
                st.sampled_from(ACTIVITY_TYPES), min_size=1, max_size=3)),
            "signer": st.sampled_from(["bob", "bob", "dave"]),
            "object": st.one_of(iris(scene), objects(scene), st.lists(iris(scene), max_size=3)),
        },
        optional={
            "target": iris(scene), "result": objects(scene, depth=1), "inReplyTo": iris(scene),
            "content": st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=60)),
            "to": st.lists(iris(scene), max_size=3), "published": st.sampled_from(DATES),
            "embedded_actor": st.just(True), "extra": json_values(scene),
        },
    )


def paths(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a member or item of ``document`` (the root excluded)."""
    found: list[tuple[Any, ...]] = []
    if isinstance(document, dict):
        for key, value in document.items():
            found.append((*prefix, key))
            found.extend(paths(value, (*prefix, key)))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found.append((*prefix, index))
            found.extend(paths(value, (*prefix, index)))
    return found


def mutate(data: st.DataObject, document: dict[str, Any], values: st.SearchStrategy[Any]) -> None:
    """Replace, delete or add up to three members anywhere in ``document``."""
    for _ in range(data.draw(st.integers(0, 3), label="mutations")):
        where = data.draw(st.sampled_from(paths(document) or [("extra",)]), label="path")
        parent: Any = document
        for step in where[:-1]:
            parent = parent[step]
        action = data.draw(st.sampled_from(["replace", "delete", "add"]), label="action")
        if action == "delete" and isinstance(parent, dict) and where[-1] in parent:
            del parent[where[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[data.draw(st.text(max_size=12), label="key")] = data.draw(values)
        else:
            parent[where[-1]] = data.draw(values, label="value")


def templates(scene: Scene) -> list[tuple[list[str], Callable[[], dict[str, Any]]]]:
    """Valid objects by bob, and the activity types that carry each."""
    bob = scene.actors["bob"].iri
    alice_listing = scene.iris["alice_listing"]

    def listing() -> dict[str, Any]:
        iri = f"{scene.attacker.url}/listings/{scene.unique('gen')}"
        return builders.proposal(
            id=iri, author=bob, purpose="offer", exchange_mode="rent", name="Drill",
            content="<p>Two <b>batteries</b></p>", to=["https://www.w3.org/ns/activitystreams#Public"],
            publishes=builders.primary_intent(
                proposal_id=iri, author=bob, purpose="offer", exchange_mode="rent",
                resource_quantity=builders.measure(unit="one", value="1"),
            ),
            reciprocal=builders.reciprocal_intent(
                proposal_id=iri, author=bob, purpose="offer",
                resource_conforms_to="https://www.wikidata.org/wiki/Q4916",
                resource_quantity=builders.measure(unit="one", value="5.00"),
            ),
            location=builders.place(latitude=52.5, longitude=13.4, precision="city", name="B"),
        )

    def reply() -> dict[str, Any]:
        return {
            "id": f"{scene.attacker.url}/notes/{scene.unique('gen')}", "type": "Note",
            "attributedTo": bob, "inReplyTo": alice_listing, "content": "<p>Still there?</p>",
            "to": [scene.victim.actor("alice")],
        }

    def agreement() -> dict[str, Any]:
        return builders.agreement(
            id=f"{scene.attacker.url}/agreements/{scene.unique('gen')}", exchange_mode="give",
            stipulates=builders.commitment(
                satisfies=f"{alice_listing}#primary", action="transfer",
                provider=scene.victim.actor("alice"), receiver=bob,
                resource_quantity=builders.measure(unit="one", value="1"),
            ),
        )

    def step() -> dict[str, Any]:
        return {"id": scene.iris["agreement"], "type": "Agreement"}

    def offer() -> dict[str, Any]:
        return {"id": scene.iris["offer"], "type": "Offer", "actor": bob}

    return [
        (["Create", "Update", "Announce"], listing),
        (["Create", "Update"], reply),
        (["Offer"], agreement),
        (["Handover", "Return", "Complete", "Cancel", "NoShow", "Dispute"], step),
        (["Undo", "Accept", "Reject"], offer),
    ]
