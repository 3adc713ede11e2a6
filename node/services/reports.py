"""Reports: members tell the operators about a listing, an attestation, a
member or a question, here or held from another node; other nodes' moderators
send theirs about this node's content as a ``Flag`` (SPEC §12). What operators
do about a report is in :mod:`node.services.moderation`."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from node.errors import Conflict, NotFound, ValidationFailed
from node.ids import new_id
from node.services.context import NodeContext
from node.storage.base import Session
from node.storage.queries.reports import Report
from node.storage.records import Member
from node.timeutil import now_text

KINDS = ("listing", "attestation", "member", "question")
REASONS = ("spam", "fraud", "prohibited", "abuse", "other")
STATES = ("open", "resolved", "dismissed")
MAX_COMMENT = 2000
MAX_TARGET = 2048
#: How much of the reported content a preview shows.
_PREVIEW = 300


@dataclass(frozen=True)
class Target:
    """What a report is about, as this node holds it."""

    kind: str
    iri: str
    #: Whose content it is: the author, the issuer, or the member themselves.
    actor_iri: str
    #: Plain text for the operator's list (a title, a rating, a name).
    preview: str
    #: Where an operator sees it.
    link: str
    #: Listing status, question hidden, member suspended...: what the actions depend on.
    state: str = ""


def is_local(ctx: NodeContext, iri: str) -> bool:
    return urlsplit(iri).netloc.lower() == ctx.settings.public_host.lower()


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _PREVIEW else text[: _PREVIEW - 1] + "…"


async def local_member(ctx: NodeContext, session: Session, iri: str) -> Member | None:
    """The member of this node an actor IRI names, if any."""
    prefix = f"{ctx.urls.base}/users/"
    if not iri.startswith(prefix):
        return None
    member = await session.get_member_by_username(iri[len(prefix):])
    return member if member is not None and ctx.urls.actor(member.username) == iri else None


async def find_target(ctx: NodeContext, session: Session, kind: str, iri: str) -> Target | None:
    """The reported object, if this node holds it (its own, or a known remote one)."""
    if kind == "listing":
        listing = await session.get_listing_by_iri(iri)
        if listing is None or listing.deleted_at is not None:
            return None
        return Target(kind, iri, listing.author_iri, _clip(listing.title), iri, listing.status)
    if kind == "attestation":
        attestation = await session.get_attestation(iri)
        if attestation is None:
            return None
        text = f"{attestation.rating}/5 {attestation.comment or ''}"
        return Target(kind, iri, attestation.issuer_iri, _clip(text), iri,
                      "withdrawn" if attestation.withdrawn_at else "")
    if kind == "question":
        question = await session.get_question_by_iri(iri)
        if question is None:
            return None
        listing = await session.get_listing_by_seq(question.listing_seq)
        return Target(kind, iri, question.author_iri, _clip(question.content),
                      listing.iri if listing else iri, "hidden" if question.hidden_at else "")
    if kind == "member":
        member = await local_member(ctx, session, iri)
        if member is not None:
            return Target(kind, iri, iri, _clip(f"{member.display_name} (@{member.username})"),
                          ctx.urls.profile_page(member.username),
                          "" if member.active else "suspended")
        remote = await session.get_remote_actor(iri)
        if remote is None:
            return None
        handle = f"@{remote.preferred_username}@{remote.host}" if remote.preferred_username \
            else remote.iri
        return Target(kind, iri, iri, _clip(handle), iri)
    return None


async def describe_target(ctx: NodeContext, kind: str, iri: str) -> Target:
    """What a member is about to report, or NotFound when this node does not hold it."""
    async with ctx.storage.read() as session:
        found = await find_target(ctx, session, kind, iri) if kind in KINDS else None
    if found is None:
        raise NotFound(f"this node holds no {kind} {iri}")
    return found


def _check_report(kind: str, target: str, reason: str, comment: str) -> None:
    errors = []
    if kind not in KINDS:
        errors.append({"pointer": "/kind", "reason": f"one of {', '.join(KINDS)}"})
    if not target.startswith(("https://", "http://")) or len(target) > MAX_TARGET:
        errors.append({"pointer": "/target", "reason": "an http(s) IRI"})
    if reason not in REASONS:
        errors.append({"pointer": "/reason", "reason": f"one of {', '.join(REASONS)}"})
    if len(comment) > MAX_COMMENT:
        errors.append({"pointer": "/comment", "reason": f"at most {MAX_COMMENT} characters"})
    if errors:
        raise ValidationFailed("the report is not complete", errors=errors)


async def file_report(
    ctx: NodeContext, member: Member, *, kind: str, target: str, reason: str, comment: str = ""
) -> Report:
    """A member reports something this node holds to its operators."""
    comment = comment.strip()
    _check_report(kind, target, reason, comment)
    reporter = ctx.urls.actor(member.username)
    async with ctx.storage.transaction() as tx:
        found = await find_target(ctx, tx, kind, target)
        if found is None:
            raise NotFound(f"this node holds no {kind} {target}")
        if found.actor_iri == reporter:
            raise ValidationFailed(
                "you cannot report yourself or your own content",
                errors=[{"pointer": "/target", "reason": "your own"}],
            )
        if await tx.open_report_by(reporter, target) is not None:
            raise Conflict("you already reported this; the operators have it")
        report = Report(
            id=new_id(), reporter_member_id=member.id, reporter_iri=reporter, kind=kind,
            target_iri=target, target_actor_iri=found.actor_iri, reason=reason,
            comment=comment, created_at=now_text(), state="open", resolution="",
            resolved_at=None, resolved_by=None, forwarded_at=None, flag_iri=None,
        )
        await tx.insert_report(report)
    return report


async def record_flag(
    ctx: NodeContext, *, flag_iri: str, reporter_iri: str, objects: list[str], comment: str
) -> str:
    """A ``Flag`` from another node becomes a report, when it names something
    of this node's: its most specific object (a listing, attestation or
    question before an account). Returns the inbox outcome."""
    local = [iri for iri in objects if is_local(ctx, iri)]
    async with ctx.storage.transaction() as tx:
        found = None
        for kind in ("listing", "attestation", "question", "member"):
            for iri in local:
                candidate = await find_target(ctx, tx, kind, iri)
                if candidate is not None and is_local(ctx, candidate.actor_iri):
                    found = candidate
                    break
            if found is not None:
                break
        if found is None:
            return "ignored: the report names nothing of this node"
        stored = await tx.insert_report(Report(
            id=new_id(), reporter_member_id=None, reporter_iri=reporter_iri, kind=found.kind,
            target_iri=found.iri, target_actor_iri=found.actor_iri, reason="other",
            comment=comment[:MAX_COMMENT], created_at=now_text(), state="open", resolution="",
            resolved_at=None, resolved_by=None, forwarded_at=None, flag_iri=flag_iri,
        ))
    return "applied: report" if stored else "ignored: already reported"


async def list_reports(ctx: NodeContext, state: str | None = "open") -> list[Report]:
    if state is not None and state not in STATES:
        raise ValidationFailed(f"state must be one of {', '.join(STATES)}",
                               errors=[{"pointer": "/state", "reason": "enum"}])
    async with ctx.storage.read() as session:
        return await session.list_reports(state=state, limit=200)


async def get_report(ctx: NodeContext, report_id: str) -> Report:
    async with ctx.storage.read() as session:
        report = await session.get_report(report_id)
    if report is None:
        raise NotFound(f"no report {report_id!r}")
    return report
