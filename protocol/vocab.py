"""Kula's vocabulary: which standard terms it uses, and the few it adds.

Kula speaks ActivityStreams 2.0 for the social layer, FEP-0837 (ValueFlows
``Proposal``/``Intent``/``Agreement``/``Commitment``) for the marketplace, and
W3C Verifiable Credentials 2.0 for reputation. A term is invented only where
none of these has one. Every invented term lives in the namespace
``https://kula.community/ns#`` (prefix ``kula``), is defined in the shipped
context ``https://kula.community/ns/v1`` and is documented in :data:`KULA_TERMS`,
which SPEC.md is written from.

Enumerated values (``exchangeMode``, ``listingStatus`` ...) travel as plain
strings, like FEP-0837's ``purpose`` and ``action``: the context gives them no
``@type: @vocab`` coercion, so a receiver never needs our context to read them.

This module is pure data; the exchange state machine is in
:mod:`protocol.exchange_states`.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType

from protocol.namespaces import KULA_NAMESPACE

KULA_PREFIX = "kula"


def kula_iri(term: str) -> str:
    """Return the full IRI of a Kula term, e.g. ``kula_iri("deposit")``."""
    return KULA_NAMESPACE + term


class Purpose(StrEnum):
    """FEP-0837 ``purpose`` of a ``Proposal``: is something offered or requested."""

    OFFER = "offer"
    REQUEST = "request"


class ExchangeMode(StrEnum):
    """``kula:exchangeMode``: the kind of exchange a listing proposes.

    FEP-0837 expresses the economics with ValueFlows actions, which do not
    say whether a thing comes back; members and search need that distinction,
    so every listing names its mode and the mode fixes the primary action
    (see :data:`MODE_PRIMARY_ACTION`).
    """

    SELL = "sell"
    RENT = "rent"
    LEND = "lend"
    SHARE = "share"
    SWAP = "swap"
    GIVE = "give"
    SERVICE = "service"


class VfAction(StrEnum):
    """The ValueFlows actions Kula emits, spelled as FEP-0837 spells them.

    FEP-0837 writes ``transfer`` and ``deliverService`` (the local names of the
    VF ontology's action individuals), so the other actions use the same
    camel-case form. Receivers also accept the hyphenated labels of the VF
    specification (``transfer-custody``); :func:`normalize_action` maps them.
    """

    #: Rights and custody both move: a sale, a gift, each side of a swap, a payment.
    TRANSFER = "transfer"
    #: Custody moves but rights stay: the thing is handed over and comes back.
    TRANSFER_CUSTODY = "transferCustody"
    #: Neither rights nor custody move: the resource is used where it is.
    USE = "use"
    #: A service is produced and actively received.
    DELIVER_SERVICE = "deliverService"


#: Every action of the ValueFlows action list (camel-case local names).
VF_ACTIONS: frozenset[str] = frozenset({
    "accept", "cite", "combine", "consume", "copy", "deliverService", "dropoff",
    "lower", "modify", "move", "pickup", "produce", "raise", "separate",
    "transfer", "transferAllRights", "transferCustody", "use", "work",
})


def normalize_action(action: str) -> str:
    """Map a VF action label in either spelling to Kula's camel-case form.

    ``"transfer-custody"`` and ``"transferCustody"`` both give
    ``"transferCustody"``; an unknown action is returned unchanged so the
    caller can decide how to reject it.
    """
    head, *rest = action.split("-")
    camel = head + "".join(part[:1].upper() + part[1:] for part in rest)
    return camel if camel in VF_ACTIONS else action


#: The primary intent's action for each mode, and why (for SPEC.md).
#:
#: * sell, give, swap -> ``transfer``: ownership and possession pass for good.
#: * rent, lend -> ``transferCustody``: possession passes for a period while
#:   rights stay with the owner; VF's ``use`` is wrong here because it changes
#:   no custody, and a rented drill really does leave the owner's hands.
#: * share -> ``use``: the resource stays where it is (a workshop, a washing
#:   machine) and the receiver uses it in place.
#: * service -> ``deliverService``.
MODE_PRIMARY_ACTION: MappingProxyType[ExchangeMode, VfAction] = MappingProxyType({
    ExchangeMode.SELL: VfAction.TRANSFER,
    ExchangeMode.RENT: VfAction.TRANSFER_CUSTODY,
    ExchangeMode.LEND: VfAction.TRANSFER_CUSTODY,
    ExchangeMode.SHARE: VfAction.USE,
    ExchangeMode.SWAP: VfAction.TRANSFER,
    ExchangeMode.GIVE: VfAction.TRANSFER,
    ExchangeMode.SERVICE: VfAction.DELIVER_SERVICE,
})

#: Modes whose reciprocal intent is required (a price, a rent, the other swap side).
MODES_REQUIRING_RECIPROCAL: frozenset[ExchangeMode] = frozenset({
    ExchangeMode.SELL, ExchangeMode.RENT, ExchangeMode.SWAP,
})
#: Modes that must not carry a reciprocal intent (a deposit is not a reciprocal).
MODES_WITHOUT_RECIPROCAL: frozenset[ExchangeMode] = frozenset({
    ExchangeMode.GIVE, ExchangeMode.LEND,
})
#: Modes where the thing comes back, so the exchange passes through ``Return``.
RETURNABLE_MODES: frozenset[ExchangeMode] = frozenset({ExchangeMode.RENT, ExchangeMode.LEND})

#: The (provider, receiver) role names each mode uses in attestations.
MODE_ROLES: MappingProxyType[ExchangeMode, tuple[str, str]] = MappingProxyType({
    ExchangeMode.SELL: ("seller", "buyer"),
    ExchangeMode.RENT: ("owner", "renter"),
    ExchangeMode.LEND: ("lender", "borrower"),
    ExchangeMode.SHARE: ("host", "guest"),
    ExchangeMode.SWAP: ("provider", "receiver"),
    ExchangeMode.GIVE: ("giver", "recipient"),
    ExchangeMode.SERVICE: ("provider", "client"),
})
#: Every value ``subjectRole`` / ``issuerRole`` may take.
ATTESTATION_ROLES: frozenset[str] = frozenset(
    role for pair in MODE_ROLES.values() for role in pair
)


class ListingStatus(StrEnum):
    """``kula:listingStatus``: where a listing stands."""

    AVAILABLE = "available"
    RESERVED = "reserved"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class LocationPrecision(StrEnum):
    """``kula:locationPrecision``: how precisely the member chose to publish a place.

    The coordinates of a ``Place`` are already rounded to this precision by
    the author's node; ``radius`` (metres) says how far off they may be.
    """

    EXACT = "exact"
    STREET = "street"
    NEIGHBOURHOOD = "neighbourhood"
    CITY = "city"
    REGION = "region"


class ActivityType(StrEnum):
    """Kula's exchange activities that ActivityStreams has no type for.

    Each has ``object`` = the Agreement's id and ``content`` = an optional
    free-text note or reason; see :mod:`protocol.exchange_states` for who may
    send which, when.
    """

    HANDOVER = "Handover"
    RETURN = "Return"
    COMPLETE = "Complete"
    CANCEL = "Cancel"
    NO_SHOW = "NoShow"
    DISPUTE = "Dispute"


#: The credential type of a reputation attestation, after ``VerifiableCredential``.
ATTESTATION_TYPE = "ExchangeAttestation"
#: The credential type of a vouch ("I know this person"), after ``VerifiableCredential``.
VOUCH_TYPE = "VouchCredential"
RATING_MIN = 1
RATING_MAX = 5

#: FEP-0837 fragment identifiers for the two intents / commitments.
PRIMARY_FRAGMENT = "primary"
RECIPROCAL_FRAGMENT = "reciprocal"

#: Every Kula term, with the definition SPEC.md states. Keys are the compact
#: term names of the Kula context; the context test checks both agree.
KULA_TERMS: MappingProxyType[str, str] = MappingProxyType({
    "exchangeMode": (
        "On a Proposal (and copied on the Agreement): one of sell, rent, lend, share, "
        "swap, give, service. Fixes the primary intent's action: sell/give/swap -> "
        "transfer, rent/lend -> transferCustody, share -> use, service -> deliverService."
    ),
    "listingStatus": (
        "On a Proposal: available, reserved, completed, withdrawn or expired. "
        "Only the author's node changes it, by an Update of the Proposal."
    ),
    "locationPrecision": (
        "On a Place: exact, street, neighbourhood, city or region; how precisely the "
        "member chose to publish the location. Coordinates are already rounded."
    ),
    "pricePer": (
        "On a Proposal or the reciprocal Intent: an ISO 8601 duration (e.g. P1D) that "
        "the reciprocal quantity pays for, for rentals and time-priced services."
    ),
    "minimumPeriod": "On a Proposal: the shortest rental or loan, an ISO 8601 duration.",
    "maximumPeriod": "On a Proposal: the longest rental or loan, an ISO 8601 duration.",
    "availability": (
        "On a Proposal: a list of AvailabilityWindow objects (AS startTime and endTime) "
        "when the resource can be handed over or used."
    ),
    "AvailabilityWindow": "A time window with AS startTime and endTime (xsd:dateTime).",
    "attestations": (
        "On an actor: the OrderedCollection of the reputation attestations about and by "
        "it, so another node (or the member's new node after a Move) can collect them."
    ),
    "booked": (
        "On a Proposal: a list of AvailabilityWindow objects already promised to agreed "
        "exchanges (rentals, loans, dated shares); an offer overlapping one is refused."
    ),
    "deposit": (
        "On a Proposal or Agreement: a Measure (om2:hasUnit, om2:hasNumericalValue) held "
        "as security during a rental or loan and given back on Return."
    ),
    "expires": "On a Proposal: the xsd:dateTime after which the listing lapses.",
    "Category": (
        "A tag naming a category of Kula's shared taxonomy: id is the category IRI, "
        "name its label. Listings also carry Hashtag tags for other servers."
    ),
    "Handover": (
        "Activity, object the Agreement: the resource (or service) was handed over. "
        "Either party may confirm it."
    ),
    "Return": "Activity, object the Agreement: a rented or lent resource came back.",
    "Complete": (
        "Activity, object the Agreement: the sender considers its side done. The "
        "exchange is completed when both parties have sent one."
    ),
    "Cancel": (
        "Activity, object the Agreement, content the reason: either party calls off an "
        "agreed exchange before handover."
    ),
    "NoShow": (
        "Activity, object the Agreement, content optional: the sender reports that the "
        "other party did not turn up for the agreed handover."
    ),
    "Dispute": (
        "Activity, object the Agreement, content the reason: the sender contests how the "
        "exchange went; moderators resolve it out of band."
    ),
    "pool": (
        "On a Proposal: a Pool section that makes the listing a pooled request "
        "(crowdfunding, group buy, shared purchase) open to pledges until its endTime."
    ),
    "Pool": (
        "The type of a Proposal's pool section: goalKind, goal, AS endTime (the deadline), "
        "what each participant receives, limits and the progress so far."
    ),
    "goalKind": (
        "On a Pool or PoolOutcome: money (goal in the currency named by "
        "resourceConformsTo), participants (a count of pledgers) or quantity (goal in "
        "the Measure's unit)."
    ),
    "goal": "On a Pool or PoolOutcome: a Measure, the total that pledges must reach by endTime.",
    "participantReceives": (
        "On a Pool: plain text saying what each participant receives (a share in a jointly "
        "bought item, a place in a group buy, a product to be made)."
    ),
    "maximumPledge": "On a Pool: a Measure, the most a single pledge may be (money and quantity).",
    "pledged": (
        "On a Pool or PoolOutcome: a Measure, the total of the live pledges the proposer's "
        "node has counted."
    ),
    "pledgeCount": "On a Pool or PoolOutcome: the number of live pledges counted (an integer).",
    "poolState": (
        "On a Pool or PoolOutcome: open, succeeded or failed. Only the proposer's node "
        "changes it, when endTime has passed."
    ),
    "outcome": "On a Pool: the id of the signed PoolOutcome, once the pool has closed.",
    "Pledge": (
        "A pledger's signed promise towards a pool: attributedTo the pledger, inReplyTo the "
        "Proposal, resourceQuantity the amount; sent as the object of an Offer."
    ),
    "PoolOutcome": (
        "The result of a pool, signed by the proposer: poolState, totals, and the confirmed "
        "commitments (success) or the released pledges (failure)."
    ),
    "commitments": (
        "On a succeeded PoolOutcome: one Commitment per counted pledge, provider the "
        "pledger, satisfies the Pledge's id."
    ),
    "released": "On a failed PoolOutcome: the ids of the pledges that no longer bind anyone.",
    "ExchangeAttestation": (
        "Credential type (with VerifiableCredential): one member's rating of the other "
        "party to a completed Agreement."
    ),
    "agreement": "In an attestation's credentialSubject: the id of the completed Agreement.",
    "subjectRole": "In an attestation: the role the rated member played (e.g. lender).",
    "issuerRole": "In an attestation: the role the issuing member played (e.g. borrower).",
    "rating": "In an attestation: an integer from 1 (poor) to 5 (excellent).",
    "comment": "In an attestation: optional free text about the exchange.",
    "supersedes": (
        "On an attestation: the id of an earlier attestation by the same issuer about "
        "the same agreement that this one replaces. The newest validFrom wins; an issuer "
        "withdraws an attestation altogether with Delete."
    ),
    "VouchCredential": (
        "Credential type (with VerifiableCredential): the issuing member vouches that they "
        "know the subject in person. A trust edge for reputation, revoked with Delete."
    ),
    "knownBy": (
        "In a vouch's credentialSubject: the actor who knows the subject; always the "
        "credential's issuer."
    ),
})
