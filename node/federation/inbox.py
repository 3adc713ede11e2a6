"""The inbox: authenticate an inbound activity, then persist it and answer 202.

Order matters: nothing is written until the body is parsed, schema-checked,
its signature verified, its signer shown to be its actor and its ids shown to
belong to that actor's origin. Processing happens later, in a job.
Activities arriving together are stored in one transaction (group commit,
:mod:`node.federation.group_commit`); each is answered once it is durable.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from node.errors import Conflict, Forbidden, NodeError, NotFound, Unauthorized
from node.federation.fetch import FetchError
from node.federation.group_commit import group_commit_for
from node.federation.policy import host_of, host_screened, refused_among
from node.federation.remote_actors import RemoteActors
from node.services.context import NodeContext
from node.storage.records import ARRIVAL_REFUSED, ArrivingActivity, RemoteActor
from node.timeutil import now_text
from protocol.errors import ProofError, SchemaError
from protocol.httpsig import verify_request
from protocol.jsonparse import parse_json
from protocol.normalize import first, id_of
from protocol.proofs import verify_authored_object
from protocol.validation import validate

log = logging.getLogger("kula.inbox")

#: Activity types with an inbound handler; anything else is recorded and refused.
SUPPORTED_TYPES = frozenset({
    "Follow", "Accept", "Reject", "Undo", "Create", "Update", "Delete", "Announce", "Offer",
    "Handover", "Return", "Complete", "Cancel", "NoShow", "Dispute", "Move", "Flag",
})


class UnsupportedActivity(NodeError):
    status = 422
    type_slug = "unsupported-activity"
    title = "Unsupported activity type"


class MisdirectedRequest(NodeError):
    status = 421
    type_slug = "misdirected-request"
    title = "Request meant for another server"


def _check_addressed_here(ctx: NodeContext, headers: Mapping[str, str]) -> None:
    """Refuse a request whose Host is not this node's. Signatures cover the Host
    header, and it is the sender's to set: without this a delivery signed for
    another server could be replayed here and still verify."""
    own = ctx.settings.public_host.lower()
    sent = (headers.get("Host") or "").lower()
    default_port = ":443" if ctx.settings.uses_https else ":80"
    if sent != own and sent.removesuffix(default_port) != own:
        raise MisdirectedRequest(f"this node is {own}; the request was addressed to {sent!r}")


class DuplicateActivity(Conflict):
    type_slug = "duplicate-activity"
    title = "Activity already received"


def _write_arrivals(
    ctx: NodeContext, batch: list[ArrivingActivity]
) -> Awaitable[list[int | None]]:
    """Store a batch and queue its processing, judging its hosts once more by
    the policies stored now: the screen before verification reads a copy up to
    :data:`~node.federation.policy.POLICY_MEMORY_TTL` old, and another process
    may have blocked a host since."""
    return ctx.storage.store_arrivals(batch, partial(refused_among, ctx), "inbox")


@dataclass(frozen=True)
class Accepted:
    seq: int
    activity_type: str


def _host(iri: str, pointer: str) -> str:
    """:func:`host_of` of an IRI from the activity at ``pointer``.

    The schema lets through http(s) IRIs whose authority urlsplit cannot read
    (an unclosed ``[``, or characters NFKC turns into ``/``, ``?``, ``#`` or ``@``).
    """
    try:
        return host_of(iri)
    except ValueError:
        raise SchemaError(
            f"{iri!r} at {pointer} has no readable host", errors=[(pointer, "no readable host")]
        ) from None


def _refuse_nul(text: str, pointer: str) -> None:
    """Refuse U+0000 in text from the activity at ``pointer`` that storage is asked about.

    PostgreSQL's text cannot hold it (SQLite's can); refused on both, the
    backends answer alike. No IRI or type name contains it.
    """
    if "\x00" in text:
        raise SchemaError(
            f"{text!r} at {pointer} contains U+0000", errors=[(pointer, "contains U+0000")]
        )


def _activity_type(document: Mapping[str, Any]) -> str:
    kind = first(document.get("type"))
    return kind.removeprefix("as:") if isinstance(kind, str) else ""


async def _check_embedded_object(
    ctx: NodeContext, actors: RemoteActors, actor_iri: str, activity: Mapping[str, Any]
) -> None:
    """An object created or updated from another origin is only believed with
    its author's proof. (Accept, Reject and Undo embed the other side's
    activity by nature; their handlers use nothing from it but its id.)"""
    if _activity_type(activity) not in ("Create", "Update"):
        return
    obj = activity.get("object")
    if not isinstance(obj, Mapping):
        return
    object_id = id_of(obj)
    if object_id is None or _host(object_id, "/object/id") == host_of(actor_iri):
        return
    if "proof" not in obj:
        raise Forbidden(
            f"the embedded object {object_id} belongs to another origin and carries no proof"
        )
    author = id_of(obj.get("attributedTo")) or id_of(obj.get("actor")) or id_of(obj.get("issuer"))
    if author is None or _host(author, "/object") != host_of(object_id):
        raise Forbidden("the embedded object's author is not on the object's origin")
    _refuse_nul(author, "/object")
    author_actor = await _embedded_author(actors, author)
    try:
        verify_authored_object(dict(obj), author_actor.document)
    except ProofError as exc:
        raise Forbidden(f"the embedded object's proof does not verify: {exc.detail}") from exc


async def _embedded_author(actors: RemoteActors, author: str) -> RemoteActor:
    """The author of an embedded object; one that does not exist makes the
    activity unacceptable (403), not the inbox missing (404). A transient
    failure to fetch it stays a 502/504, so the sender tries again."""
    try:
        return await actors.get(author)
    except NotFound:
        raise Forbidden(f"the embedded object's author {author} is not an actor here") from None
    except FetchError as exc:
        if not exc.is_missing:
            raise
        raise Forbidden(
            f"the embedded object's author {author} does not exist"
            f" (its server answered {exc.upstream_status})"
        ) from None


async def receive(
    ctx: NodeContext,
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
) -> Accepted:
    """Authenticate and persist one inbound activity. Raises a 4xx error otherwise."""
    _check_addressed_here(ctx, headers)
    document = parse_json(body, max_bytes=ctx.settings.max_body_bytes)
    if not isinstance(document, dict):
        raise Forbidden("an activity must be a JSON object")
    validate(document, "activity")
    activity_type = _activity_type(document)
    actor_iri = id_of(document.get("actor"))
    activity_iri = id_of(document)
    if actor_iri is None or activity_iri is None:
        raise Forbidden("the activity needs an id and an actor")
    actor_host = _host(actor_iri, "/actor/id" if isinstance(document["actor"], dict) else "/actor")
    if not await host_screened(ctx, actor_host):
        raise Forbidden(f"this node does not federate with {actor_host}")

    actors = RemoteActors(ctx)
    verified = await verify_request(
        method,
        url,
        headers,
        body,
        key_resolver=actors.key_resolver,
        max_skew=ctx.settings.signature_max_skew,
    )
    signer = await actors.by_key_id(verified.key_id)
    if signer.iri != actor_iri:
        raise Unauthorized(f"the request is signed by {signer.iri}, not by the activity's actor")
    if _host(activity_iri, "/id") != actor_host:
        raise Forbidden("the activity's id is not on its actor's origin")
    await _check_embedded_object(ctx, actors, actor_iri, document)

    _refuse_nul(activity_iri, "/id")
    _refuse_nul(activity_type, "/type")
    supported = activity_type in SUPPORTED_TYPES
    arrival = ArrivingActivity(
        iri=activity_iri,
        actor_iri=actor_iri,
        host=actor_host,
        type=activity_type or "?",
        document_text=body.decode("utf-8"),
        received_at=now_text(),
        outcome=None if supported else "unsupported",
        outcome_detail=None if supported else f"no handler for {activity_type!r}",
    )
    # Shares its transaction with activities arriving at the same time; returns once durable.
    seq = await group_commit_for(
        ctx.storage, "inbox", partial(_write_arrivals, ctx)
    ).submit(arrival)
    if seq == ARRIVAL_REFUSED:
        raise Forbidden(f"this node does not federate with {actor_host}")
    if seq is None:
        raise DuplicateActivity(f"activity {activity_iri} was already received")
    if not supported:
        raise UnsupportedActivity(
            f"Kula does not process {activity_type!r} activities; it was recorded and ignored"
        )
    # The access log has the request already; this line adds the activity's ids.
    log.debug("accepted %s %s from %s", activity_type, activity_iri, actor_iri)
    return Accepted(seq=seq, activity_type=activity_type)
