"""What the listing page shows of its public questions: each visible question
with its asker and the author's answer, and what the viewer may do with it
(ask, answer, hide, show again). Built on :func:`node.services.questions.of_listing`."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from node.services import questions
from node.services.context import NodeContext
from node.storage.records import Listing, Member
from node.web.pages.profile_views import label_actor

#: Most questions one listing page shows (newest kept); the API pages through all.
MAX_QUESTIONS_SHOWN = 200


async def question_section(
    ctx: NodeContext, listing: Listing, me: Member | None, *, is_admin: bool
) -> dict[str, Any]:
    """The questions part of the listing page. Hidden questions are shown
    (marked hidden) only to the listing's author and to administrators."""
    is_author = me is not None and listing.member_id == me.id
    moderator = is_admin and me is not None
    _, found = await questions.of_listing(
        ctx, listing.id, me, include_hidden=is_author or moderator, moderator=moderator
    )
    items = []
    async with ctx.storage.read() as session:
        for question, answer in found[-MAX_QUESTIONS_SHOWN:]:
            hidden = question.hidden_at is not None
            base = f"/questions/{quote(question.id)}"
            items.append({
                "id": question.id,
                "content": question.content,
                "date": question.published[:10],
                "asker": await label_actor(ctx, session, question.author_iri),
                "hidden": hidden,
                "hidden_by_moderator": question.hidden_by == "moderator",
                "answer": None if answer is None else {
                    "content": answer.content,
                    "date": answer.published[:10],
                    "author": await label_actor(ctx, session, answer.author_iri),
                },
                "answer_url": f"{base}/answer",
                "hide_url": f"{base}/hide",
                "unhide_url": f"{base}/unhide",
                "can_answer": is_author and not hidden,
                "can_hide": (is_author or moderator) and not hidden,
                "can_unhide": hidden and (
                    moderator or (is_author and question.hidden_by != "moderator")
                ),
            })
    viewer_iri = ctx.urls.actor(me.username) if me is not None else None
    return {
        "entries": items,
        "can_ask": me is not None and viewer_iri != listing.author_iri,
        "ask_url": f"/listings/{quote(listing.id)}/questions",
        "is_author": is_author,
    }
