"""Actors: members (``Person``), the community (``Group``, FEP-1b12) and the
node itself (``Application``), with RSA keys for HTTP signatures (security v1)
and Multikeys for object proofs (FEP-521a)."""

from __future__ import annotations

from collections.abc import Iterable

from protocol.builders._common import JsonDict, Timestamp, drop_unset, timestamp, with_context
from protocol.namespaces import KULA_ACTOR_CONTEXT

ACTOR_TYPES = frozenset({"Person", "Group", "Application", "Service"})


def rsa_public_key(*, id: str, owner: str, public_key_pem: str) -> JsonDict:
    """The ``publicKey`` entry of an actor (security v1), used for HTTP signatures."""
    return {"id": id, "owner": owner, "publicKeyPem": public_key_pem}


def multikey(*, id: str, controller: str, public_key_multibase: str) -> JsonDict:
    """A ``Multikey`` verification method (FEP-521a) for ``assertionMethod``."""
    return {
        "id": id,
        "type": "Multikey",
        "controller": controller,
        "publicKeyMultibase": public_key_multibase,
    }


def actor(
    *,
    type: str,
    id: str,
    preferred_username: str,
    inbox: str,
    outbox: str,
    followers: str,
    following: str,
    public_key: JsonDict,
    assertion_method: Iterable[JsonDict] = (),
    name: str | None = None,
    summary: str | None = None,
    url: str | None = None,
    shared_inbox: str | None = None,
    icon: JsonDict | None = None,
    manually_approves_followers: bool = False,
    also_known_as: Iterable[str] = (),
    moved_to: str | None = None,
    published: Timestamp | None = None,
) -> JsonDict:
    """An actor document; ``type`` is Person, Group, Application or Service."""
    if type not in ACTOR_TYPES:
        raise ValueError(f"unsupported actor type {type!r}")
    return with_context(drop_unset({
        "id": id,
        "type": type,
        "preferredUsername": preferred_username,
        "name": name,
        "summary": summary,
        "url": url,
        "icon": icon,
        "inbox": inbox,
        "outbox": outbox,
        "followers": followers,
        "following": following,
        "endpoints": {"sharedInbox": shared_inbox} if shared_inbox else None,
        "manuallyApprovesFollowers": manually_approves_followers,
        "alsoKnownAs": list(also_known_as),
        "movedTo": moved_to,
        "published": timestamp(published) if published is not None else None,
        "publicKey": public_key,
        "assertionMethod": list(assertion_method),
    }), KULA_ACTOR_CONTEXT)
