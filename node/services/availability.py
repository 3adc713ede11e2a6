"""A listing's availability as exchanges are agreed, cancelled and completed.

Only the node that owns the listing keeps its availability. An exchange with
dates books them (rentals, loans, dated shares) and overlapping bookings are
refused; one without dates takes quantity. Every change re-signs the listing
and publishes an Update, so other nodes see it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from node.errors import Conflict
from node.services.context import NodeContext
from node.services.listings import republish
from node.storage.base import Session
from node.storage.records import Exchange, Listing, Member


async def _local_listing(
    session: Session, exchange: Exchange
) -> tuple[Listing, Member] | None:
    if exchange.listing_seq is None:
        return None
    await session.lock_listing(exchange.listing_seq)
    listing = await session.get_listing_by_seq(exchange.listing_seq)
    if listing is None or listing.member_id is None or listing.deleted_at is not None:
        return None
    member = await session.get_member(listing.member_id)
    return None if member is None else (listing, member)


def _overlaps(start: str, end: str, window: dict[str, Any]) -> bool:
    return start < window["end"] and window["start"] < end


def _booking(exchange: Exchange) -> dict[str, str]:
    assert exchange.starts_at and exchange.ends_at
    return {"start": exchange.starts_at, "end": exchange.ends_at, "exchange": exchange.id}


async def hold(ctx: NodeContext, session: Session, exchange: Exchange) -> Exchange:
    """Take the exchange's quantity or dates from its listing, or refuse (409)."""
    found = await _local_listing(session, exchange)
    if found is None:
        return exchange
    listing, member = found
    if listing.status not in ("available", "reserved"):
        raise Conflict(f"the listing is {listing.status}")
    fields = dict(listing.fields)
    status = listing.status
    if exchange.starts_at and exchange.ends_at:
        booked = list(fields.get("booked", []))
        for window in booked:
            if _overlaps(exchange.starts_at, exchange.ends_at, window):
                raise Conflict(
                    f"those dates overlap a booking from {window['start']} to {window['end']}"
                )
        fields["booked"] = sorted([*booked, _booking(exchange)], key=lambda w: w["start"])
    else:
        available = int(fields.get("quantity", 1))
        if exchange.quantity > available:
            raise Conflict(
                f"only {available} left" if available else "nothing is left: it is reserved"
            )
        fields["quantity"] = available - exchange.quantity
        if fields["quantity"] == 0:
            status = "reserved"
    await republish(ctx, session, member, listing, fields, status)
    return replace(exchange, holds_availability=True)


async def release(ctx: NodeContext, session: Session, exchange: Exchange) -> Exchange:
    """Give a cancelled or returned exchange's quantity or dates back."""
    found = await _local_listing(session, exchange)
    if found is None:
        return replace(exchange, holds_availability=False)
    listing, member = found
    fields = dict(listing.fields)
    status = listing.status
    if exchange.starts_at and exchange.ends_at:
        fields["booked"] = [
            w for w in fields.get("booked", []) if w.get("exchange") != exchange.id
        ]
    else:
        fields["quantity"] = int(fields.get("quantity", 0)) + exchange.quantity
        if status == "reserved":
            status = "available"
    await republish(ctx, session, member, listing, fields, status)
    return replace(exchange, holds_availability=False)


async def settle(ctx: NodeContext, session: Session, exchange: Exchange) -> Exchange:
    """A completed exchange keeps what it took; a listing with nothing left is completed."""
    found = await _local_listing(session, exchange)
    if found is None:
        return replace(exchange, holds_availability=False)
    listing, member = found
    if exchange.starts_at and exchange.holds_availability:
        return await release(ctx, session, exchange)
    if not exchange.starts_at and int(listing.fields.get("quantity", 0)) == 0:
        others = [
            e for e in await session.exchanges_holding(listing.seq) if e.id != exchange.id
        ]
        if not others:
            await republish(ctx, session, member, listing, listing.fields, "completed")
    return replace(exchange, holds_availability=False)
