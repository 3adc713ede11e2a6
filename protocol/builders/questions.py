"""Public questions on a listing, their answers, and the author's relay of them.

A question is a public ``Note`` replying to the listing (``inReplyTo`` the
Proposal's id); the listing's author answers with a ``Note`` replying to the
question. The author's node relays each question it accepts with an
``Announce`` by the author, so every node holding the listing gets it, and
hides one again with ``Undo`` of that ``Announce`` (SPEC §7.1).
"""

from __future__ import annotations

from collections.abc import Iterable

from protocol.builders._common import JsonDict, Timestamp, ids, timestamp, with_context
from protocol.builders.activities import announce, undo
from protocol.namespaces import AS_PUBLIC


def question(
    *, id: str, author: str, listing: str, listing_author: str, content: str,
    published: Timestamp = None,
) -> JsonDict:
    """``author`` asks, in public, about ``listing``; ``content`` is sanitised HTML."""
    return with_context({
        "id": id,
        "type": "Note",
        "attributedTo": author,
        "content": content,
        "mediaType": "text/html",
        "inReplyTo": listing,
        "published": timestamp(published),
        "to": [AS_PUBLIC],
        "cc": [listing_author],
        # Other servers (Mastodon) show the author a reply only when it mentions them.
        "tag": [{"type": "Mention", "href": listing_author}],
    })


def answer(
    *, id: str, author: str, question: str, asker: str, content: str,
    audience: str | Iterable[str] = (), published: Timestamp = None,
) -> JsonDict:
    """The listing's ``author`` answers ``question`` (asked by ``asker``) in public."""
    return with_context({
        "id": id,
        "type": "Note",
        "attributedTo": author,
        "content": content,
        "mediaType": "text/html",
        "inReplyTo": question,
        "published": timestamp(published),
        "to": [AS_PUBLIC],
        "cc": list(dict.fromkeys([asker, *ids(audience)])),
        "tag": [{"type": "Mention", "href": asker}],
    })


def question_relay(
    *, id: str, author: str, question: JsonDict, to: str | Iterable[str],
    published: Timestamp = None,
) -> JsonDict:
    """The listing's ``author`` relays an accepted ``question`` (embedded) to ``to``."""
    relay = announce(id=id, actor=author, object=question["id"], to=AS_PUBLIC, cc=to,
                     published=published)
    relay["object"] = {key: value for key, value in question.items() if key != "@context"}
    return relay


def withdrawn_relay(
    *, id: str, author: str, relay: JsonDict, to: str | Iterable[str],
    published: Timestamp = None,
) -> JsonDict:
    """``Undo`` of an earlier relay: the author hides the question again."""
    withdrawn = {
        "id": relay["id"], "type": "Announce", "actor": author,
        "object": relay["object"]["id"] if isinstance(relay["object"], dict) else relay["object"],
    }
    return undo(id=id, actor=author, object=withdrawn, to=[AS_PUBLIC, *ids(to)],
                published=published)
