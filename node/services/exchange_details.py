"""What a member sees of their exchanges: each one with its listing, the
other party, its history, its messages and the parties' attestations.

Read-only: the actions live in :mod:`node.services.exchanges` and
:mod:`node.services.attestations`. Nothing here touches the network; the
other party is described from what this node already holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from node.errors import Forbidden, NotFound
from node.services.actors import member_actor
from node.services.attestations import current_for, party_roles
from node.services.community import community_profile
from node.services.context import NodeContext
from node.services.exchange_state import other_party, role_of
from node.storage.base import Session
from node.storage.records import (
    Attestation,
    Exchange,
    ExchangeEvent,
    ExchangeMessage,
    Listing,
    Member,
)
from protocol.currency import currency_code
from protocol.exchange_states import TERMINAL_STATES, ExchangeState, Role, allowed_activities

S = ExchangeState
#: States in which an offer waits for an answer.
NEGOTIATING = frozenset({S.NEW, S.OFFERED, S.COUNTERED})


@dataclass(frozen=True)
class Party:
    """One side of an exchange, as this node knows it."""

    iri: str
    name: str
    handle: str
    #: The community (host) the party belongs to.
    community: str
    local: bool
    #: Where a browser can see the party's profile.
    profile_url: str


@dataclass(frozen=True)
class Summary:
    """One row of a member's exchange list."""

    exchange: Exchange
    role: Role
    listing_title: str | None
    counterparty: Party
    #: "received", "sent", "active" or "closed": where the row belongs.
    group: str


@dataclass(frozen=True)
class Details:
    """Everything the exchange page shows to one of its parties."""

    exchange: Exchange
    viewer: Party
    counterparty: Party
    role: Role
    listing: Listing | None
    events: list[ExchangeEvent]
    messages: list[ExchangeMessage]
    #: What the viewer may send now (activity types of the state machine).
    allowed: frozenset[str]
    #: The role each party plays ("owner", "renter", ...), by IRI; empty before an Agreement.
    party_roles: dict[str, str]
    #: Each party's current attestation of the other, by issuer IRI.
    attestations: dict[str, Attestation | None]


async def describe_party(ctx: NodeContext, session: Session, iri: str) -> Party:
    """A party's name, handle and community from local records only."""
    prefix = ctx.urls.base + "/users/"
    if iri.startswith(prefix):
        username = unquote(iri[len(prefix):])
        member = await session.get_member_by_username(username)
        name = member.display_name if member and member.display_name else username
        return Party(
            iri=iri, name=name, handle=f"{username}@{ctx.settings.public_host}",
            community=(await community_profile(ctx, session)).name, local=True,
            profile_url=ctx.urls.profile_page(username),
        )
    host = urlsplit(iri).netloc
    actor = await session.get_remote_actor(iri)
    username = (actor.preferred_username if actor else None) or iri.rstrip("/").rsplit("/", 1)[-1]
    document_name = actor.document.get("name") if actor else None
    name = document_name if isinstance(document_name, str) and document_name else username
    return Party(
        iri=iri, name=name[:200], handle=f"{username}@{host}", community=host, local=False,
        profile_url=iri,
    )


def group_of(exchange: Exchange, role: Role) -> str:
    state = S(exchange.state)
    if state in TERMINAL_STATES:
        return "closed"
    if state in NEGOTIATING:
        return "sent" if exchange.pending_offer_role == role.value else "received"
    if state is S.REJECTED:
        # The responder may try again; for the proposer it is over.
        return "sent" if role is Role.RESPONDER else "closed"
    return "active"


async def _listing_of(session: Session, exchange: Exchange) -> Listing | None:
    if exchange.listing_seq is None:
        return None
    return await session.get_listing_by_seq(exchange.listing_seq)


async def list_for(ctx: NodeContext, member: Member) -> list[Summary]:
    """The member's exchanges, most recently changed first."""
    iri = member_actor(ctx, member).iri
    rows = []
    async with ctx.storage.read() as session:
        for exchange in await session.list_exchanges_of(iri):
            role = role_of(exchange, iri)
            listing = await _listing_of(session, exchange)
            rows.append(Summary(
                exchange=exchange, role=role, listing_title=listing.title if listing else None,
                counterparty=await describe_party(ctx, session, other_party(exchange, iri)),
                group=group_of(exchange, role),
            ))
    return sorted(rows, key=lambda row: row.exchange.updated_at, reverse=True)


async def details_for(ctx: NodeContext, member: Member, exchange_id: str) -> Details:
    """The exchange as ``member`` sees it; NotFound for anyone not a party."""
    iri = member_actor(ctx, member).iri
    async with ctx.storage.read() as session:
        exchange = await session.get_exchange(exchange_id)
        if exchange is None or iri not in (exchange.proposer_iri, exchange.responder_iri):
            raise NotFound("no such exchange of yours")
        role = role_of(exchange, iri)
        counterparty_iri = other_party(exchange, iri)
        attested: dict[str, Attestation | None] = {}
        if exchange.agreement_iri is not None:
            for issuer in (iri, counterparty_iri):
                attested[issuer] = await current_for(session, issuer, exchange.agreement_iri)
        return Details(
            exchange=exchange,
            viewer=await describe_party(ctx, session, iri),
            counterparty=await describe_party(ctx, session, counterparty_iri),
            role=role,
            listing=await _listing_of(session, exchange),
            events=await session.list_exchange_events(exchange.id),
            messages=await session.list_messages(exchange.id),
            allowed=allowed_activities(exchange.state, role),
            party_roles=_roles(exchange.agreement),
            attestations=attested,
        )


def _roles(agreement: dict[str, Any] | None) -> dict[str, str]:
    if not agreement:
        return {}
    try:
        return party_roles(agreement)
    except Forbidden:  # an Agreement that does not name both parties: no role names
        return {}


def agreed_price(agreement: dict[str, Any] | None) -> tuple[str, str | None] | None:
    """(amount, currency code) the receiver pays under ``agreement``, if anything."""
    reciprocal = (agreement or {}).get("stipulatesReciprocal")
    if not isinstance(reciprocal, dict):
        return None
    quantity = reciprocal.get("resourceQuantity") or {}
    amount = quantity.get("hasNumericalValue") if isinstance(quantity, dict) else None
    conforms = reciprocal.get("resourceConformsTo")
    if amount is None or not isinstance(conforms, str):
        return None
    return str(amount), currency_code(conforms)


def agreed_deposit(agreement: dict[str, Any] | None) -> tuple[str, str | None] | None:
    deposit = (agreement or {}).get("deposit")
    if not isinstance(deposit, dict) or "hasNumericalValue" not in deposit:
        return None
    return str(deposit["hasNumericalValue"]), currency_code(str(deposit.get("hasUnit", "")))
