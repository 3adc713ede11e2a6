"""Sample documents built with Kula's builders, shared by the vocabulary,
builder, schema and validation tests. Every id is given explicitly, as the
node would give it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from protocol import builders as b
from protocol.namespaces import AS_PUBLIC

ALICE = "https://kula.example/users/alice"
BOB = "https://other.example/users/bob"
COMMUNITY = "https://kula.example/groups/valley"
INSTANCE = "https://kula.example/actor"
LISTING = "https://kula.example/listings/drill"
AGREEMENT = "https://kula.example/agreements/7"
OFFER = "https://other.example/offers/1"
COUNTER = "https://kula.example/offers/2"
EURO = "https://spec.edmcouncil.org/fibo/ontology/FND/Accounting/ISO4217-CurrencyCodes/EUR"
DRILL = "https://www.wikidata.org/wiki/Q1056184"
WHEN = datetime(2025, 5, 1, 9, 30, tzinfo=UTC)
LATER = datetime(2025, 5, 3, 18, 0, tzinfo=UTC)
PEM = (
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr\n"
    "-----END PUBLIC KEY-----\n"
)
MULTIBASE = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"


def rental_listing() -> dict[str, Any]:
    """A drill for rent at 5 EUR a day, with a deposit, window, place, image and tags."""
    one = b.measure(unit="one", value=1)
    return b.proposal(
        id=LISTING,
        author=ALICE,
        purpose="offer",
        exchange_mode="rent",
        name="Cordless drill",
        content="<p>18V drill with two batteries.</p>",
        publishes=b.primary_intent(
            proposal_id=LISTING, author=ALICE, purpose="offer", exchange_mode="rent",
            resource_quantity=one, resource_conforms_to=DRILL, available_quantity=one,
        ),
        reciprocal=b.reciprocal_intent(
            proposal_id=LISTING, author=ALICE, purpose="offer",
            resource_quantity=b.measure(unit="one", value=Decimal("5.00")),
            resource_conforms_to=EURO, price_per="P1D",
        ),
        to=[AS_PUBLIC],
        cc=[f"{ALICE}/followers", COMMUNITY],
        url="https://kula.example/@alice/listings/drill",
        location=b.place(latitude=48.85, longitude=2.35, precision="neighbourhood",
                         name="Belleville", radius=800),
        attachment=[b.image(url="https://kula.example/media/drill.webp", media_type="image/webp",
                            alt="A green cordless drill", width=1200, height=800)],
        tag=[b.hashtag(name="tools", href="https://kula.example/tags/tools"),
             b.category(id="https://kula.example/categories/tools", name="Tools")],
        published=WHEN,
        price_per="P1D",
        minimum_period="P1D",
        maximum_period="P14D",
        availability=[b.availability_window(start=WHEN, end=LATER)],
        deposit=b.measure(unit="one", value=50),
        expires=datetime(2025, 8, 1, tzinfo=UTC),
    )


def gift_listing() -> dict[str, Any]:
    """A request-free gift: no reciprocal intent at all."""
    gift_id = "https://kula.example/listings/chairs"
    return b.proposal(
        id=gift_id, author=ALICE, purpose="offer", exchange_mode="give", name="Two chairs",
        content="<p>Free to a good home.</p>", to=AS_PUBLIC, published=WHEN,
        publishes=b.primary_intent(proposal_id=gift_id, author=ALICE, purpose="offer",
                                   exchange_mode="give",
                                   resource_quantity=b.measure(unit="one", value=2)),
    )


def rental_agreement(*, final: bool) -> dict[str, Any]:
    """Bob rents the drill for two days; ids only once final (FEP-0837)."""
    def cid(fragment: str) -> str | None:
        return f"{AGREEMENT}#{fragment}" if final else None

    return b.agreement(
        id=AGREEMENT if final else None,
        exchange_mode="rent",
        stipulates=b.commitment(
            id=cid("primary"), satisfies=f"{LISTING}#primary", action="transferCustody",
            resource_quantity=b.measure(unit="one", value=1), resource_conforms_to=DRILL,
            provider=ALICE, receiver=BOB, has_beginning=WHEN, has_end=LATER,
        ),
        stipulates_reciprocal=b.commitment(
            id=cid("reciprocal"), satisfies=f"{LISTING}#reciprocal", action="transfer",
            resource_quantity=b.measure(unit="one", value="10.00"), resource_conforms_to=EURO,
            provider=BOB, receiver=ALICE,
        ),
        deposit=b.measure(unit="one", value=50),
    )


def attestation() -> dict[str, Any]:
    """Bob rates Alice after the rental."""
    return b.exchange_attestation(
        id="https://other.example/attestations/1", issuer=BOB, subject=ALICE,
        agreement=AGREEMENT, subject_role="owner", issuer_role="renter", rating=5,
        comment="Drill as described.", valid_from=LATER,
    )


def person() -> dict[str, Any]:
    """Alice's actor document."""
    return b.actor(
        type="Person", id=ALICE, preferred_username="alice", name="Alice",
        summary="<p>Tools and bikes.</p>", inbox=f"{ALICE}/inbox", outbox=f"{ALICE}/outbox",
        followers=f"{ALICE}/followers", following=f"{ALICE}/following",
        shared_inbox="https://kula.example/inbox", url="https://kula.example/@alice",
        icon=b.image(url="https://kula.example/media/alice.png", media_type="image/png",
                     alt="Alice's avatar"),
        public_key=b.rsa_public_key(id=f"{ALICE}#main-key", owner=ALICE, public_key_pem=PEM),
        assertion_method=[b.multikey(id=f"{ALICE}#ed25519-key", controller=ALICE,
                                     public_key_multibase=MULTIBASE)],
        also_known_as=["https://old.example/users/alice"], published=WHEN,
    )


def named_documents() -> list[tuple[str, str, dict[str, Any]]]:
    """(label, schema name, document) for one output of every builder."""
    offer = b.offer(id=OFFER, actor=BOB, agreement=rental_agreement(final=False),
                    in_reply_to=LISTING, context=LISTING, to=ALICE, published=WHEN)
    counter = b.offer(id=COUNTER, actor=ALICE, agreement=rental_agreement(final=False),
                      in_reply_to=OFFER, context=LISTING, to=BOB, content="Two days?")
    note = b.private_message(id="https://kula.example/notes/1", author=ALICE, recipient=BOB,
                             content="<p>See you at 6.</p>", agreement_id=AGREEMENT,
                             published=WHEN)
    listing = rental_listing()
    lifecycle = [
        ("handover", b.handover), ("return", b.return_), ("complete", b.complete),
        ("no-show", b.no_show),
    ]
    docs = [
        ("rental listing", "proposal", listing),
        ("gift listing", "proposal", gift_listing()),
        ("intent", "intent", listing["publishes"]),
        ("place", "place", listing["location"]),
        ("image", "image", listing["attachment"][0]),
        ("hashtag", "tag", listing["tag"][0]),
        ("category", "tag", listing["tag"][1]),
        ("window", "availability-window", listing["availability"][0]),
        ("measure", "measure", listing["deposit"]),
        ("agreement", "agreement", rental_agreement(final=True)),
        ("commitment", "commitment", rental_agreement(final=True)["stipulates"]),
        ("offer", "offer", offer),
        ("counter-offer", "offer", counter),
        ("accept offer", "accept", b.accept_offer(id="https://kula.example/a/1", actor=ALICE,
                                                  offer_id=OFFER, to=BOB,
                                                  agreement=rental_agreement(final=True))),
        ("reject offer", "reject", b.reject_offer(id="https://kula.example/a/2", actor=ALICE,
                                                  offer_id=OFFER, to=BOB, reason="Booked")),
        ("withdraw offer", "undo", b.withdraw_offer(id="https://other.example/a/3", actor=BOB,
                                                    offer_id=OFFER, to=ALICE)),
        ("cancel", "cancel", b.cancel(id="https://kula.example/a/4", actor=ALICE,
                                      agreement_id=AGREEMENT, to=BOB, reason="Drill broke")),
        ("dispute", "dispute", b.dispute(id="https://kula.example/a/5", actor=ALICE,
                                         agreement_id=AGREEMENT, to=BOB, reason="Not returned")),
        ("attestation", "attestation", attestation()),
        ("person", "actor", person()),
        ("rsa key", "public-key", person()["publicKey"]),
        ("multikey", "multikey", person()["assertionMethod"][0]),
        ("note", "note", note),
        ("create listing", "create", b.create(id=f"{LISTING}/create", actor=ALICE,
                                              object=listing, to=AS_PUBLIC, cc=COMMUNITY)),
        ("create note", "create", b.create(id="https://kula.example/notes/1/create", actor=ALICE,
                                           object=note, to=BOB)),
        ("update listing", "update", b.update(id=f"{LISTING}/update", actor=ALICE,
                                              object=listing, to=AS_PUBLIC)),
        ("update actor", "update", b.update(id=f"{ALICE}#update", actor=ALICE,
                                            object=person(), to=AS_PUBLIC)),
        ("tombstone", "tombstone", b.tombstone(id=LISTING, former_type="Proposal", deleted=LATER)),
        ("delete", "delete", b.delete(id=f"{LISTING}/delete", actor=ALICE, to=AS_PUBLIC,
                                      object=b.tombstone(id=LISTING, former_type="Proposal"))),
        ("follow", "follow", b.follow(id=f"{BOB}/follows/1", actor=BOB, object=ALICE)),
        ("accept follow", "accept", b.accept(id=f"{ALICE}/accepts/1", actor=ALICE, to=BOB,
                                             object=f"{BOB}/follows/1")),
        ("reject follow", "reject", b.reject(id=f"{ALICE}/rejects/1", actor=ALICE, to=BOB,
                                             object=f"{BOB}/follows/1")),
        ("undo follow", "undo", b.undo(id=f"{BOB}/undo/1", actor=BOB, to=ALICE,
                                       object=b.follow(id=f"{BOB}/follows/1", actor=BOB,
                                                       object=ALICE))),
        ("announce", "announce", b.announce(id=f"{COMMUNITY}/announce/1", actor=COMMUNITY,
                                            object=LISTING, to=AS_PUBLIC,
                                            cc=f"{COMMUNITY}/followers")),
        ("move", "move", b.move(id=f"{ALICE}/move/1", actor=ALICE,
                                target="https://new.example/users/alice",
                                to=f"{ALICE}/followers")),
        ("flag", "flag", b.flag(id="https://kula.example/flags/1", actor=INSTANCE,
                                objects=[BOB, "https://other.example/listings/9"],
                                to="https://other.example/actor", reason="Spam")),
        ("collection", "collection", b.ordered_collection(id=f"{ALICE}/outbox", total_items=40,
                                                          first=f"{ALICE}/outbox?page=1")),
        ("collection page", "collection-page", b.ordered_collection_page(
            id=f"{ALICE}/outbox?page=1", part_of=f"{ALICE}/outbox",
            next=f"{ALICE}/outbox?page=2", ordered_items=[f"{LISTING}/create"])),
    ]
    for index, (name, build) in enumerate(lifecycle):
        docs.append((name, name, build(id=f"https://kula.example/x/{index}", actor=BOB,
                                       agreement_id=AGREEMENT, to=ALICE, published=WHEN)))
    return docs
