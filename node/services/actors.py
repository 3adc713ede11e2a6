"""The node's actors as ActivityPub documents: members (``Person``), the
community (``Group``) and the instance actor (``Application``)."""

from __future__ import annotations

from dataclasses import dataclass

from node.errors import NotFound
from node.keys import load_ed25519_private, rsa_public_pem
from node.services.community import CommunityProfile, community_profile
from node.services.context import NodeContext
from node.services.listing_terms import text_to_html
from node.storage.records import Member, NodeKeys
from protocol.builders.actor import actor, multikey, rsa_public_key
from protocol.multikey import multikey_encode


@dataclass(frozen=True)
class LocalActor:
    """Any actor this node speaks for, with what signing needs."""

    iri: str
    username: str
    rsa_private_pem: str
    ed25519_private_pem: str
    member: Member | None = None

    @property
    def rsa_key_id(self) -> str:
        return f"{self.iri}#main-key"

    @property
    def ed25519_key_id(self) -> str:
        return f"{self.iri}#ed25519-key"


def member_actor(ctx: NodeContext, member: Member) -> LocalActor:
    return LocalActor(
        iri=ctx.urls.actor(member.username),
        username=member.username,
        rsa_private_pem=member.rsa_private_pem,
        ed25519_private_pem=member.ed25519_private_pem,
        member=member,
    )


def node_actor(ctx: NodeContext, keys: NodeKeys) -> LocalActor:
    if keys.name == "community":
        handle = ctx.settings.community_handle
        return LocalActor(ctx.urls.actor(handle), handle, keys.rsa_private_pem,
                          keys.ed25519_private_pem)
    return LocalActor(ctx.urls.instance_actor, ctx.settings.public_host, keys.rsa_private_pem,
                      keys.ed25519_private_pem)


def _keys(local: LocalActor) -> tuple[dict, list[dict]]:
    public_key = rsa_public_key(
        id=local.rsa_key_id, owner=local.iri, public_key_pem=rsa_public_pem(local.rsa_private_pem)
    )
    ed_public = load_ed25519_private(local.ed25519_private_pem).public_key()
    assertion = multikey(
        id=local.ed25519_key_id, controller=local.iri,
        public_key_multibase=multikey_encode(ed_public),
    )
    return public_key, [assertion]


def member_document(ctx: NodeContext, member: Member) -> dict:
    local = member_actor(ctx, member)
    public_key, assertion = _keys(local)
    urls = ctx.urls
    document = actor(
        type="Person",
        id=local.iri,
        preferred_username=member.username,
        name=member.display_name,
        # The member wrote plain text; AS2 summary is HTML, so it is escaped.
        summary=text_to_html(member.summary) or None,
        url=urls.profile_page(member.username),
        inbox=urls.inbox(member.username),
        outbox=urls.outbox(member.username),
        followers=urls.followers(member.username),
        following=urls.following(member.username),
        shared_inbox=urls.shared_inbox,
        manually_approves_followers=member.manually_approves_followers,
        also_known_as=member.aliases,
        moved_to=member.moved_to,
        published=member.created_at,
        public_key=public_key,
        assertion_method=assertion,
    )
    document["attestations"] = f"{local.iri}/attestations"
    return document


def community_document(ctx: NodeContext, keys: NodeKeys, profile: CommunityProfile) -> dict:
    """The community's Group, named and described as its settings stand."""
    local = node_actor(ctx, keys)
    public_key, assertion = _keys(local)
    handle = local.username
    urls = ctx.urls
    return actor(
        type="Group",
        id=local.iri,
        preferred_username=handle,
        name=profile.name,
        # The operator wrote plain text; AS2 summary is HTML, so it is escaped.
        summary=text_to_html(profile.description) or None,
        url=urls.base,
        inbox=urls.inbox(handle),
        outbox=urls.outbox(handle),
        followers=urls.followers(handle),
        following=urls.following(handle),
        shared_inbox=urls.shared_inbox,
        published=keys.created_at,
        public_key=public_key,
        assertion_method=assertion,
    )


def instance_document(ctx: NodeContext, keys: NodeKeys, profile: CommunityProfile) -> dict:
    local = node_actor(ctx, keys)
    public_key, assertion = _keys(local)
    base = ctx.urls.instance_actor
    return actor(
        type="Application",
        id=local.iri,
        preferred_username=local.username,
        name=profile.name,
        url=ctx.urls.base,
        inbox=f"{base}/inbox",
        outbox=f"{base}/outbox",
        followers=f"{base}/followers",
        following=f"{base}/following",
        shared_inbox=ctx.urls.shared_inbox,
        manually_approves_followers=True,
        published=keys.created_at,
        public_key=public_key,
        assertion_method=assertion,
    )


async def actor_document_by_username(ctx: NodeContext, username: str) -> dict:
    """The actor document at ``/users/<username>``: a member or the community."""
    async with ctx.storage.read() as session:
        if username == ctx.settings.community_handle:
            keys = await session.get_node_keys("community")
            if keys is not None:
                return community_document(ctx, keys, await community_profile(ctx, session))
        member = await session.get_member_by_username(username)
    if member is None or member.username != username:
        raise NotFound(f"no actor named {username!r}")
    return member_document(ctx, member)


async def instance_actor_document(ctx: NodeContext) -> dict:
    async with ctx.storage.read() as session:
        keys = await session.get_node_keys("instance")
        profile = await community_profile(ctx, session)
    assert keys is not None, "node keys are created at start-up"
    return instance_document(ctx, keys, profile)


async def local_actor_by_iri(ctx: NodeContext, iri: str) -> LocalActor | None:
    """The local actor (member, community or instance actor) an IRI names, with
    its keys; None when the IRI is not one of this node's actors."""
    urls = ctx.urls
    async with ctx.storage.read() as session:
        if iri == urls.instance_actor:
            keys = await session.get_node_keys("instance")
            return node_actor(ctx, keys) if keys else None
        prefix = f"{urls.base}/users/"
        if not iri.startswith(prefix):
            return None
        username = iri[len(prefix):]
        if username == ctx.settings.community_handle:
            keys = await session.get_node_keys("community")
            return node_actor(ctx, keys) if keys else None
        member = await session.get_member_by_username(username)
    if member is None or urls.actor(member.username) != iri:
        return None
    return member_actor(ctx, member)


async def instance_actor(ctx: NodeContext) -> LocalActor:
    """The node's own actor, which signs fetches made on nobody's behalf."""
    local = await local_actor_by_iri(ctx, ctx.urls.instance_actor)
    assert local is not None, "node keys are created at start-up"
    return local
