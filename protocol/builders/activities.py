"""The social activities a Kula node sends: Create, Update, Delete (with a
Tombstone), Follow, Accept, Reject, Undo, Announce, Move, Flag, and private
messages between the two parties of an exchange."""

from __future__ import annotations

from collections.abc import Iterable

from protocol.builders._common import (
    JsonDict,
    Timestamp,
    context_for,
    drop_unset,
    embedded,
    ids,
    timestamp,
    with_context,
)


def _activity(
    type: str,
    *,
    id: str,
    actor: str,
    object: JsonDict | str | list[str],
    to: str | Iterable[str],
    cc: str | Iterable[str] = (),
    published: Timestamp = None,
    **extra: object,
) -> JsonDict:
    context = context_for(object)
    return with_context(drop_unset({
        "id": id,
        "type": type,
        "actor": actor,
        "object": object if isinstance(object, list) else embedded(object, context),
        **extra,
        "published": timestamp(published),
        "to": ids(to),
        "cc": ids(cc),
    }), context)


def create(
    *, id: str, actor: str, object: JsonDict, to: str | Iterable[str],
    cc: str | Iterable[str] = (), published: Timestamp = None,
) -> JsonDict:
    """``Create`` of an object (a listing, a message, an attestation)."""
    return _activity("Create", id=id, actor=actor, object=object, to=to, cc=cc,
                     published=published)


def update(
    *, id: str, actor: str, object: JsonDict, to: str | Iterable[str],
    cc: str | Iterable[str] = (), published: Timestamp = None,
) -> JsonDict:
    """``Update`` carrying the whole new version of an object (never a patch)."""
    return _activity("Update", id=id, actor=actor, object=object, to=to, cc=cc,
                     published=published)


def tombstone(*, id: str, former_type: str, deleted: Timestamp = None) -> JsonDict:
    """A ``Tombstone`` standing where a deleted object was."""
    return {"id": id, "type": "Tombstone", "formerType": former_type, "deleted": timestamp(deleted)}


def delete(
    *, id: str, actor: str, object: JsonDict | str, to: str | Iterable[str],
    cc: str | Iterable[str] = (), published: Timestamp = None,
) -> JsonDict:
    """``Delete`` of an object, given as its Tombstone or its id."""
    return _activity("Delete", id=id, actor=actor, object=object, to=to, cc=cc,
                     published=published)


def follow(*, id: str, actor: str, object: str, published: Timestamp = None) -> JsonDict:
    """``Follow`` of an actor, addressed to it."""
    return _activity("Follow", id=id, actor=actor, object=object, to=object, published=published)


def accept(
    *, id: str, actor: str, object: JsonDict | str, to: str | Iterable[str],
    published: Timestamp = None,
) -> JsonDict:
    """``Accept`` of an activity (usually a Follow, embedded or by id)."""
    return _activity("Accept", id=id, actor=actor, object=object, to=to, published=published)


def reject(
    *, id: str, actor: str, object: JsonDict | str, to: str | Iterable[str],
    reason: str | None = None, published: Timestamp = None,
) -> JsonDict:
    """``Reject`` of an activity, with an optional reason as ``content``."""
    return _activity("Reject", id=id, actor=actor, object=object, to=to, published=published,
                     content=reason)


def undo(
    *, id: str, actor: str, object: JsonDict | str, to: str | Iterable[str],
    published: Timestamp = None,
) -> JsonDict:
    """``Undo`` of one of the sender's own earlier activities."""
    return _activity("Undo", id=id, actor=actor, object=object, to=to, published=published)


def announce(
    *, id: str, actor: str, object: str, to: str | Iterable[str],
    cc: str | Iterable[str] = (), published: Timestamp = None,
) -> JsonDict:
    """``Announce``: a community Group relays a member's object (FEP-1b12)."""
    return _activity("Announce", id=id, actor=actor, object=object, to=to, cc=cc,
                     published=published)


def move(
    *, id: str, actor: str, target: str, to: str | Iterable[str], published: Timestamp = None,
) -> JsonDict:
    """``Move`` of an account: ``object`` is the old actor, ``target`` the new one,
    which must list the old one in ``alsoKnownAs``."""
    return _activity("Move", id=id, actor=actor, object=actor, to=to, published=published,
                     target=target)


def flag(
    *, id: str, actor: str, objects: Iterable[str], to: str | Iterable[str],
    reason: str | None = None, published: Timestamp = None,
) -> JsonDict:
    """``Flag``: report an actor and/or objects to the moderators of ``to``.
    ``actor`` is usually the reporting node's instance actor, for privacy."""
    return _activity("Flag", id=id, actor=actor, object=list(objects), to=to,
                     published=published, content=reason)


def private_message(
    *,
    id: str,
    author: str,
    recipient: str,
    content: str,
    agreement_id: str | None = None,
    in_reply_to: str | None = None,
    published: Timestamp = None,
) -> JsonDict:
    """A ``Note`` seen only by the two parties, in the ``context`` of their
    Agreement (or negotiation); the recipient is also tagged, as Mastodon
    needs a ``Mention`` to show a direct message."""
    return with_context(drop_unset({
        "id": id,
        "type": "Note",
        "attributedTo": author,
        "content": content,
        "mediaType": "text/html",
        "context": agreement_id,
        "inReplyTo": in_reply_to,
        "published": timestamp(published),
        "to": [recipient],
        "tag": [{"type": "Mention", "href": recipient}],
    }))
