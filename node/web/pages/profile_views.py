"""What profile pages show, prepared for templates: who an actor IRI is,
attestations with their verification state, and reputation with its range.
Nothing here touches the network: remote actors are named from the cache."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from node.federation.remote_listings import html_to_text
from node.services.context import NodeContext
from node.storage.base import Session
from node.storage.records import Attestation
from node.web.pages.site import gettext as _
from protocol.reputation import Reputation

#: Most attestations a profile lists in each direction (newest first).
MAX_ATTESTATIONS_SHOWN = 50


@dataclass(frozen=True)
class ActorLabel:
    name: str
    handle: str
    href: str


def remote_href(iri: str) -> str:
    return f"/remote/actor?iri={quote(iri, safe='')}"


async def label_actor(ctx: NodeContext, session: Session, iri: str) -> ActorLabel:
    """A human name and a page for an actor IRI, local or (cached) remote."""
    prefix = f"{ctx.urls.base}/users/"
    if iri.startswith(prefix):
        member = await session.get_member_by_username(iri[len(prefix):])
        if member is not None and ctx.urls.actor(member.username) == iri:
            return ActorLabel(
                member.display_name, f"@{member.username}", f"/@{quote(member.username)}"
            )
    remote = await session.get_remote_actor(iri)
    host = urlsplit(iri).netloc
    if remote is not None and remote.preferred_username:
        name = remote.document.get("name")
        handle = f"@{remote.preferred_username}@{remote.host}"
        return ActorLabel(
            name if isinstance(name, str) and name.strip() else handle, handle, remote_href(iri)
        )
    return ActorLabel(iri, host, remote_href(iri))


def role_label(role: str) -> str:
    labels = {
        "seller": _("seller"), "buyer": _("buyer"), "owner": _("owner"), "renter": _("renter"),
        "lender": _("lender"), "borrower": _("borrower"), "host": _("host"), "guest": _("guest"),
        "provider": _("provider"), "receiver": _("receiver"), "giver": _("giver"),
        "recipient": _("recipient"), "client": _("client"),
    }
    return labels.get(role, role)


async def attestation_views(
    ctx: NodeContext, session: Session, records: list[Attestation],
    counted: set[str] | None = None,
) -> list[dict[str, Any]]:
    """Newest first. Every stored attestation was verified on arrival (its proof
    and the Agreement it cites), so the states are: withdrawn, and, with
    ``counted`` (the reputation's evidence), whether it counts."""
    views = []
    for record in sorted(records, key=lambda r: (r.valid_from, r.iri), reverse=True):
        if record.withdrawn_at is not None:
            state, state_label = "withdrawn", _("withdrawn by its author")
        elif counted is None:
            state, state_label = "verified", _("verified")
        elif record.iri in counted:
            state, state_label = "counted", _("verified · counts")
        else:
            # Its issuer carries too little trust here, so it is kept for the record only.
            state, state_label = "verified", _("verified · does not count")
        reply = await session.attestation_reply(record.iri)
        views.append({
            "iri": record.iri,
            "rating": record.rating,
            "comment": record.comment or "",
            "issuer": await label_actor(ctx, session, record.issuer_iri),
            "subject": await label_actor(ctx, session, record.subject_iri),
            "issuer_role": role_label(record.issuer_role),
            "subject_role": role_label(record.subject_role),
            "date": record.valid_from[:10],
            "state": state,
            "state_label": state_label,
            "reply": reply[0] if reply else None,
        })
        if len(views) >= MAX_ATTESTATIONS_SHOWN:
            break
    return views


def reputation_view(reputation: Reputation) -> dict[str, Any]:
    """The numbers of a reputation, rounded for people, with what they mean."""
    params = reputation.params
    return {
        "has_score": reputation.score is not None,
        "score": None if reputation.score is None else f"{reputation.score:.1f}",
        "low": None if reputation.low is None else f"{reputation.low:.1f}",
        "high": None if reputation.high is None else f"{reputation.high:.1f}",
        "count": reputation.count,
        "effective_weight": f"{reputation.effective_weight:.1f}",
        "level": round(params.credible_level * 100),
        "half_life_days": round(params.half_life_days),
        "prior": f"{1 + 4 * params.prior_mean:.0f}",
        "evidence": list(reputation.evidence),
        "issuer_weights": dict(reputation.issuer_weights),
        # Current vouches that fed the trust step (a NodeReputation carries them).
        "vouch_count": len(getattr(reputation, "vouches", ())),
    }


def remote_summary(document: dict[str, Any]) -> str:
    """A remote actor's summary (HTML from elsewhere) as plain text."""
    summary = document.get("summary")
    return html_to_text(summary)[:2000] if isinstance(summary, str) else ""
