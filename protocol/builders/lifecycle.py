"""Kula's exchange activities after ``Accept``: handover, return, completion,
cancellation, no-show and dispute.

Each is addressed to the other party only, has ``object`` the Agreement's id
and ``content`` a note or reason. Which party may send which, and when, is in
:mod:`protocol.exchange_states`.
"""

from __future__ import annotations

from collections.abc import Iterable

from protocol.builders._common import JsonDict, Timestamp, drop_unset, ids, timestamp, with_context
from protocol.vocab import ActivityType


def exchange_activity(
    *,
    type: ActivityType | str,
    id: str,
    actor: str,
    agreement_id: str,
    to: str | Iterable[str],
    content: str | None = None,
    published: Timestamp = None,
) -> JsonDict:
    """Any of Kula's exchange activities; the named builders below call this."""
    return with_context(drop_unset({
        "id": id,
        "type": ActivityType(type).value,
        "actor": actor,
        "object": agreement_id,
        "content": content,
        "published": timestamp(published),
        "to": ids(to),
    }))


def handover(
    *, id: str, actor: str, agreement_id: str, to: str | Iterable[str],
    note: str | None = None, published: Timestamp = None,
) -> JsonDict:
    """``Handover``: the resource or service changed hands."""
    return exchange_activity(type=ActivityType.HANDOVER, id=id, actor=actor,
                             agreement_id=agreement_id, to=to, content=note, published=published)


def return_(
    *, id: str, actor: str, agreement_id: str, to: str | Iterable[str],
    note: str | None = None, published: Timestamp = None,
) -> JsonDict:
    """``Return``: a rented or lent resource came back to its owner."""
    return exchange_activity(type=ActivityType.RETURN, id=id, actor=actor,
                             agreement_id=agreement_id, to=to, content=note, published=published)


def complete(
    *, id: str, actor: str, agreement_id: str, to: str | Iterable[str],
    note: str | None = None, published: Timestamp = None,
) -> JsonDict:
    """``Complete``: the sender's side is done; both parties send one."""
    return exchange_activity(type=ActivityType.COMPLETE, id=id, actor=actor,
                             agreement_id=agreement_id, to=to, content=note, published=published)


def cancel(
    *, id: str, actor: str, agreement_id: str, to: str | Iterable[str],
    reason: str, published: Timestamp = None,
) -> JsonDict:
    """``Cancel``: call off an agreed exchange before handover; a reason is required."""
    return exchange_activity(type=ActivityType.CANCEL, id=id, actor=actor,
                             agreement_id=agreement_id, to=to, content=reason, published=published)


def no_show(
    *, id: str, actor: str, agreement_id: str, to: str | Iterable[str],
    note: str | None = None, published: Timestamp = None,
) -> JsonDict:
    """``NoShow``: the other party did not come to the agreed handover."""
    return exchange_activity(type=ActivityType.NO_SHOW, id=id, actor=actor,
                             agreement_id=agreement_id, to=to, content=note, published=published)


def dispute(
    *, id: str, actor: str, agreement_id: str, to: str | Iterable[str],
    reason: str, published: Timestamp = None,
) -> JsonDict:
    """``Dispute``: contest the exchange; a reason is required."""
    return exchange_activity(type=ActivityType.DISPUTE, id=id, actor=actor,
                             agreement_id=agreement_id, to=to, content=reason, published=published)
