"""Flag: another node's moderators report something of this node's (SPEC §12).
It becomes a report for this node's operators when it names a listing,
attestation, question or member of this node; anything else is ignored."""

from __future__ import annotations

from typing import Any

from node.federation.remote_listings import html_to_text
from node.services import reports
from node.services.context import NodeContext
from protocol.normalize import as_list, id_of
from protocol.validation import validate


async def handle_flag(ctx: NodeContext, activity: dict[str, Any]) -> str:
    validate(activity, "flag")
    objects = [iri for iri in (id_of(entry) for entry in as_list(activity.get("object"))) if iri]
    content = activity.get("content")
    # Some servers send the comment as HTML; operators read it as text.
    comment = html_to_text(content) if isinstance(content, str) else ""
    return await reports.record_flag(
        ctx, flag_iri=str(activity["id"]), reporter_iri=str(id_of(activity.get("actor"))),
        objects=objects, comment=comment,
    )
