"""What operators do about reports: dismiss or resolve them, hide or remove a
local listing, hide a question, suspend a local member, block a remote host,
or forward a report about another node's content to that node as a ``Flag``.
Every action is logged with the operator's note (``moderation_actions``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from node.errors import Conflict, NotFound, ValidationFailed
from node.ids import new_id
from node.services import accounts, federation_admin, listings, questions
from node.services.actors import instance_actor
from node.services.context import NodeContext
from node.services.outbox import new_activity_iri, publish_activity
from node.services.reports import Target, find_target, get_report, is_local, local_member
from node.storage.base import Session
from node.storage.queries.reports import ModerationAction, Report
from node.storage.records import Member
from node.timeutil import now_text
from protocol import builders

#: ``forward`` leaves the report open (the operator may act here too); the others close it.
ACTIONS = ("dismiss", "resolve", "hide", "remove", "suspend", "block", "forward")
MAX_NOTE = 1000


@dataclass(frozen=True)
class ReportView:
    """A report with what it is about (None once that is gone) and the actions
    an operator can take on it now."""

    report: Report
    target: Target | None
    actions: tuple[str, ...]
    #: The reported content is this node's (else another node's, held here).
    local: bool

    def as_json(self) -> dict[str, Any]:
        report = self.report
        return {
            "id": report.id, "kind": report.kind, "target": report.target_iri,
            "target_actor": report.target_actor_iri, "reporter": report.reporter_iri,
            "reason": report.reason, "comment": report.comment,
            "created_at": report.created_at, "state": report.state,
            "resolution": report.resolution, "resolved_at": report.resolved_at,
            "forwarded_at": report.forwarded_at,
            "preview": self.target.preview if self.target else None,
            "local": self.local,
            "actions": list(self.actions),
        }


def _host(iri: str) -> str:
    return urlsplit(iri).netloc.lower()


async def _available(
    ctx: NodeContext, session: Session, report: Report, target: Target | None
) -> tuple[str, ...]:
    if report.state != "open":
        return ()
    found = ["dismiss", "resolve"]
    local_content = is_local(ctx, report.target_actor_iri)
    if target is not None and local_content and target.kind == "listing":
        found += ["hide"] if target.state != "withdrawn" else []
        found.append("remove")
    if target is not None and target.kind == "question" and target.state != "hidden":
        found.append("hide")
    if local_content:
        member = await local_member(ctx, session, report.target_actor_iri)
        if member is not None and member.active:
            found.append("suspend")
    else:
        policy = await session.get_host_policy(_host(report.target_actor_iri))
        if policy is None or policy.policy != "block":
            found.append("block")
        if report.forwarded_at is None:
            found.append("forward")
    return tuple(action for action in ACTIONS if action in found)


async def view_reports(ctx: NodeContext, reports: list[Report]) -> list[ReportView]:
    async with ctx.storage.read() as session:
        views = []
        for report in reports:
            target = await find_target(ctx, session, report.kind, report.target_iri)
            actions = await _available(ctx, session, report, target)
            views.append(
                ReportView(report, target, actions, is_local(ctx, report.target_actor_iri))
            )
    return views


async def _log(
    ctx: NodeContext, session: Session, operator: Member | None, action: str, target: str,
    note: str, report_id: str | None = None,
) -> None:
    await session.log_moderation(ModerationAction(
        id=new_id(), action=action, target=target, note=note, report_id=report_id,
        operator_id=operator.id if operator else None, created_at=now_text(),
    ))


async def set_suspension(
    ctx: NodeContext, operator: Member | None, username: str, suspended: bool, reason: str = "",
    *, report_id: str | None = None,
) -> Member:
    """Suspend a member (or lift it), with the reason kept in the moderation log."""
    reason = reason.strip()[:MAX_NOTE]
    member = await accounts.set_suspended(ctx, username, suspended)
    async with ctx.storage.transaction() as tx:
        await _log(ctx, tx, operator, "suspend" if suspended else "unsuspend",
                   ctx.urls.actor(member.username), reason, report_id)
    return member


async def suspension_reason(ctx: NodeContext, member: Member) -> str:
    async with ctx.storage.read() as session:
        logged = await session.last_moderation(ctx.urls.actor(member.username), "suspend")
    return logged.note if logged else ""


async def _forward(ctx: NodeContext, session: Session, report: Report) -> None:
    """Send the report to the content's node as its instance actor, so the
    reporter's identity stays here (SPEC §12)."""
    signer = await instance_actor(ctx)
    origin = urlsplit(report.target_actor_iri)
    _, iri = new_activity_iri(ctx)
    flag = builders.flag(
        id=iri, actor=signer.iri,
        objects=list(dict.fromkeys([report.target_actor_iri, report.target_iri])),
        # Kula and Mastodon nodes both keep their instance actor at /actor.
        to=[f"{origin.scheme}://{origin.netloc}/actor"],
        reason=report.comment or report.reason, published=now_text(),
    )
    await publish_activity(ctx, session, signer, flag)
    await session.mark_report_forwarded(report.id, now_text())


async def _apply(ctx: NodeContext, operator: Member, view: ReportView, action: str,
                 note: str) -> None:
    report, target = view.report, view.target
    if action == "hide" and target is not None and target.kind == "question":
        async with ctx.storage.read() as session:
            question = await session.get_question_by_iri(target.iri)
        assert question is not None
        await questions.set_hidden(ctx, operator, question.id, True, moderator=True)
    elif action in ("hide", "remove"):
        async with ctx.storage.read() as session:
            listing = await session.get_listing_by_iri(report.target_iri)
            author = await session.get_member(listing.member_id) if listing and \
                listing.member_id is not None else None
        if listing is None or author is None:
            raise NotFound("the listing is gone")
        if action == "hide":
            await listings.withdraw_listing(ctx, author, listing.id)
        else:
            await listings.delete_listing(ctx, author, listing.id)
    elif action == "suspend":
        username = report.target_actor_iri.rsplit("/", 1)[-1]
        await set_suspension(ctx, operator, username, True, note, report_id=report.id)
        return
    elif action == "block":
        await federation_admin.set_policy(
            ctx, _host(report.target_actor_iri), "block", note or f"report {report.id}"
        )
    if action in ("dismiss", "resolve"):
        return
    async with ctx.storage.transaction() as tx:
        target_name = _host(report.target_actor_iri) if action == "block" else report.target_iri
        await _log(ctx, tx, operator, action, target_name, note, report.id)


async def act_on_report(
    ctx: NodeContext, operator: Member, report_id: str, action: str, note: str = ""
) -> ReportView:
    """Take ``action`` on an open report; every action but ``forward`` closes it
    (``dismiss`` as dismissed, the others as resolved)."""
    if action not in ACTIONS:
        raise ValidationFailed(f"action must be one of {', '.join(ACTIONS)}",
                               errors=[{"pointer": "/action", "reason": "enum"}])
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise ValidationFailed(f"a note is at most {MAX_NOTE} characters",
                               errors=[{"pointer": "/note", "reason": "maxLength"}])
    [view] = await view_reports(ctx, [await get_report(ctx, report_id)])
    if view.report.state != "open":
        raise Conflict(f"the report is already {view.report.state}")
    if action not in view.actions:
        raise Conflict(f"{action!r} does not apply to this report now")
    if action == "forward":
        async with ctx.storage.transaction() as tx:
            await _forward(ctx, tx, view.report)
            await _log(ctx, tx, operator, "forward", view.report.target_iri, note, report_id)
    else:
        await _apply(ctx, operator, view, action, note)
        async with ctx.storage.transaction() as tx:
            state = "dismissed" if action == "dismiss" else "resolved"
            resolution = f"{action}: {note}" if note else action
            await tx.close_report(report_id, state, resolution[:MAX_NOTE], operator.id,
                                  now_text())
    [updated] = await view_reports(ctx, [await get_report(ctx, report_id)])
    return updated
