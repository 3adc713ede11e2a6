"""Plain records returned by the storage layer. They carry data only: turning
them into ActivityPub documents or API bodies is the services' job."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class NodeKeys:
    name: str
    rsa_private_pem: str
    ed25519_private_pem: str
    created_at: str


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    username: str
    display_name: str
    summary: str
    password_hash: str | None
    is_admin: bool
    manually_approves_followers: bool
    suspended_at: str | None
    rsa_private_pem: str
    ed25519_private_pem: str
    created_at: str
    #: JSON list of actor IRIs this member also is (ActivityPub alsoKnownAs).
    also_known_as: str = "[]"
    #: Where the member moved to, once they have.
    moved_to: str | None = None

    @property
    def aliases(self) -> list[str]:
        return list(json.loads(self.also_known_as or "[]"))

    @property
    def active(self) -> bool:
        return self.suspended_at is None


@dataclass(frozen=True, slots=True)
class Token:
    id: str
    member_id: int
    name: str
    scope: str
    kind: str
    created_at: str
    expires_at: str | None
    last_used_at: str | None
    revoked_at: str | None


@dataclass(frozen=True, slots=True)
class Invite:
    id: str
    created_by: int | None
    note: str
    max_uses: int
    uses: int
    created_at: str
    expires_at: str | None
    revoked_at: str | None


@dataclass(frozen=True, slots=True)
class Image:
    id: str
    member_id: int
    media_type: str
    width: int
    height: int
    size_bytes: int
    filename: str
    thumbnail_filename: str
    description: str
    created_at: str


@dataclass(frozen=True, slots=True)
class Listing:
    seq: int
    id: str
    iri: str
    author_iri: str
    member_id: int | None
    origin: str
    purpose: str
    mode: str
    status: str
    title: str
    content: str
    price_amount: float | None
    price_currency: str | None
    latitude: float | None
    longitude: float | None
    expires_at: str | None
    published_at: str
    updated_at: str
    #: The listing's terms as the API accepted them (JSON object).
    fields: dict[str, Any]
    #: The signed FEP-0837 ``Proposal`` served to other nodes.
    document: dict[str, Any]
    deleted_at: str | None
    categories: tuple[str, ...] = ()
    image_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Activity:
    seq: int
    id: str
    iri: str
    actor_iri: str
    member_id: int | None
    type: str
    object_iri: str | None
    public: bool
    document: dict[str, Any]
    published_at: str


@dataclass(frozen=True, slots=True)
class SearchQuery:
    text: str = ""
    purpose: str | None = None
    mode: str | None = None
    category: str | None = None
    status: str | None = "available"
    min_price: float | None = None
    max_price: float | None = None
    currency: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    radius_km: float | None = None
    sort: str = "relevance"
    limit: int = 20
    #: Opaque position from a previous page: ``(sort_key, seq)``.
    after: tuple[float, int] | None = None
    #: Only this node's own listings, none from partner communities.
    local_only: bool = False


@dataclass(frozen=True, slots=True)
class SearchHit:
    listing: Listing
    sort_key: float
    distance_km: float | None


@dataclass(frozen=True, slots=True)
class RemoteActor:
    iri: str
    host: str
    type: str
    preferred_username: str | None
    inbox: str
    shared_inbox: str | None
    followers: str | None
    rsa_key_id: str | None
    rsa_public_pem: str | None
    document: dict[str, Any]
    fetched_at: str
    expires_at: str

    @property
    def delivery_inbox(self) -> str:
        """Where activities for this actor go: the shared inbox when it has one."""
        return self.shared_inbox or self.inbox


@dataclass(frozen=True, slots=True)
class Follow:
    id: str
    follower_iri: str
    followee_iri: str
    state: str
    activity_iri: str
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class InboxActivity:
    seq: int
    iri: str
    actor_iri: str
    type: str
    document: dict[str, Any]
    received_at: str
    outcome: str | None
    outcome_detail: str | None


@dataclass(frozen=True, slots=True)
class ArrivingActivity:
    """An authenticated inbound activity, to be stored by ``Storage.store_arrivals``."""

    iri: str
    actor_iri: str
    #: The actor's host (lower-cased authority): what host policies name.
    host: str
    type: str
    #: The body as received; the inbox proved it strict JSON, so it is stored verbatim.
    document_text: str
    received_at: str
    #: Set for an activity no handler takes: stored as its outcome, and no job is queued.
    outcome: str | None = None
    outcome_detail: str | None = None


#: Given the hosts of a batch of arrivals and the stored policies naming any of
#: them, the hosts this node refuses (the caller's federation rules).
HostScreen = Callable[[Collection[str], Mapping[str, "HostPolicy"]], Collection[str]]
#: What ``Storage.store_arrivals`` answers for an activity whose host was refused.
ARRIVAL_REFUSED = -1


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: str
    payload: dict[str, Any]
    state: str
    attempts: int
    next_attempt_at: str
    locked_until: str | None
    last_error: str | None
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    activity_iri: str
    actor_iri: str
    inbox: str
    host: str
    state: str
    attempts: int
    next_attempt_at: str
    locked_until: str | None
    last_status: int | None
    last_error: str | None
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class HostPolicy:
    host: str
    policy: str
    note: str
    created_at: str


@dataclass(frozen=True, slots=True)
class Peer:
    host: str
    group_iri: str
    created_at: str


@dataclass(frozen=True, slots=True)
class Reply:
    iri: str
    listing_seq: int
    author_iri: str
    content: str
    published: str
    document: dict[str, Any]
    hidden_at: str | None


@dataclass(frozen=True, slots=True)
class Exchange:
    id: str
    proposal_iri: str
    listing_seq: int | None
    proposer_iri: str
    responder_iri: str
    mode: str
    state: str
    pending_offer_iri: str | None
    pending_offer_role: str | None
    agreement_iri: str | None
    agreement: dict[str, Any] | None
    quantity: int
    starts_at: str | None
    ends_at: str | None
    holds_availability: bool
    reason: str | None
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class ExchangeEvent:
    seq: int
    exchange_id: str
    activity_iri: str
    type: str
    actor_iri: str
    role: str
    from_state: str
    to_state: str
    content: str | None
    created_at: str


@dataclass(frozen=True, slots=True)
class ExchangeMessage:
    iri: str
    exchange_id: str
    author_iri: str
    content: str
    published: str
    document: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Notification:
    id: int
    member_id: int
    kind: str
    exchange_id: str | None
    summary: str
    created_at: str
    read_at: str | None


@dataclass(frozen=True, slots=True)
class Attestation:
    iri: str
    issuer_iri: str
    subject_iri: str
    agreement_iri: str
    issuer_role: str
    subject_role: str
    rating: int
    comment: str | None
    valid_from: str
    supersedes: str | None
    document: dict[str, Any]
    received_at: str
    withdrawn_at: str | None


@dataclass(frozen=True, slots=True)
class AttestationEdge:
    """What reputation reads of an attestation: no document, nothing to parse."""

    iri: str
    issuer_iri: str
    subject_iri: str
    agreement_iri: str
    rating: int
    valid_from: str
    supersedes: str | None
    withdrawn_at: str | None


@dataclass(frozen=True, slots=True)
class VouchRecord:
    """A verified vouch ("issuer knows subject"), ours or received."""

    iri: str
    issuer_iri: str
    subject_iri: str
    valid_from: str
    document: dict[str, Any]
    received_at: str
    revoked_at: str | None


@dataclass(frozen=True, slots=True)
class Question:
    """A public question on a listing: a listing reply with its API id and relay."""

    id: str
    iri: str
    listing_seq: int
    author_iri: str
    content: str
    published: str
    document: dict[str, Any]
    hidden_at: str | None
    #: ``author`` (the listing's author hid it) or ``moderator``.
    hidden_by: str | None
    #: The listing author's Announce that spread it, once there is one.
    relay_iri: str | None


@dataclass(frozen=True, slots=True)
class Answer:
    """The listing author's answer to a question."""

    question_iri: str
    iri: str
    author_iri: str
    content: str
    published: str
    document: dict[str, Any]
