"""Remote actors and their keys: fetched (signed by the instance actor),
checked, and cached in storage for a day.

An actor document is only believed about its own origin: its ``id`` must
share the origin of the URL it was finally served from, and every key it
lists must be owned by it and share that origin too. Otherwise one server
could plant a key id of another and take over its signatures.

Key rotation: :meth:`RemoteActors.key_resolver` serves cached keys, and with
``refresh=True`` (which :func:`protocol.httpsig.verify_request` asks for once
when a cached key fails) fetches the actor again.

Keys that resolved are also held in memory for a minute
(:mod:`node.federation.key_memory`), so the inbox's hot path reads no
database row and parses no key to verify a signature.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import unquote, urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa

from node.errors import NotFound
from node.federation.fetch import FetchedJson, FetchError, fetch_document
from node.federation.key_memory import key_memory_for
from node.services.actors import (
    LocalActor,
    actor_document_by_username,
    instance_actor,
    instance_actor_document,
)
from node.services.context import NodeContext
from node.storage.records import RemoteActor
from node.timeutil import now_text, parse_text, to_text, utc_now
from protocol.errors import JsonLdError, KeyFormatError, SchemaError
from protocol.httpsig import PublicKey, VerificationKey, load_public_key_pem
from protocol.multikey import multikey_decode
from protocol.namespaces import KULA_ACTOR_CONTEXT
from protocol.normalize import as_list, has_type, normalize
from protocol.validation import validate

__all__ = ["ACTOR_CACHE_TTL", "RemoteActors", "actor_record", "find_key", "same_origin"]

#: How long a fetched actor document is trusted before it is fetched again.
ACTOR_CACHE_TTL = timedelta(days=1)
_ACTOR_TYPES = ("Person", "Group", "Application", "Service", "Organization")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class RemoteActors:
    """Look up actors and keys by IRI or key id; local ones never go over HTTP."""

    def __init__(self, ctx: NodeContext) -> None:
        self.ctx = ctx
        self._signer: LocalActor | None = None

    def is_local(self, iri: str) -> bool:
        """Whether ``iri`` is under this node's base URL."""
        base = self.ctx.urls.base
        return iri == base or iri.startswith(base + "/")

    async def get(self, iri: str, *, refresh: bool = False) -> RemoteActor:
        """The actor at ``iri``, from storage unless expired or ``refresh``.

        When a refetch of an expired actor fails for a reason other than the
        actor being gone (404/410), the stale copy is returned. Raises
        :class:`FetchError`, or :class:`NotFound` for an unknown local actor.
        """
        if self.is_local(iri):
            return await self._local(iri)
        stored = None
        if not refresh:
            async with self.ctx.storage.read() as session:
                stored = await session.get_remote_actor(iri)
            if stored is not None and not _expired(stored):
                return stored
        try:
            fetched = await self._fetch(iri)
        except FetchError as exc:
            if stored is not None and not exc.is_missing:
                return stored
            raise
        return await self._accept_actor(fetched, requested=iri)

    async def by_key_id(self, key_id: str, *, refresh: bool = False) -> RemoteActor:
        """The actor that owns the key ``key_id`` (e.g. ``https://h/users/x#main-key``).

        Looks in storage first; otherwise fetches the key id without its
        fragment, which serves either the actor or a key document whose
        ``owner`` is then fetched. The actor must list the key as its own.
        """
        document_url = key_id.partition("#")[0]
        if self.is_local(key_id):
            actor = await self._local(document_url)
            _require_key(actor, key_id)
            return actor
        if not refresh:
            known = key_memory_for(self.ctx.storage).get(key_id)
            if known is not None:
                return known.actor
            cached = await self._cached_for_key(key_id)
            if cached is not None:
                return cached
        fetched = await self._fetch(document_url)
        if isinstance(fetched.document.get("inbox"), str):
            actor = await self._accept_actor(fetched, requested=document_url)
        else:
            owner = fetched.document.get("owner", fetched.document.get("controller"))
            if not isinstance(owner, str):
                raise FetchError(
                    "key-mismatch", f"{fetched.url} is neither an actor nor a key with an owner",
                    url=fetched.url,
                )
            actor = await self.get(owner, refresh=True)
        _require_key(actor, key_id)
        return actor

    async def key_resolver(
        self, key_id: str, refresh: bool
    ) -> PublicKey | VerificationKey | None:
        """Key resolver for :func:`protocol.httpsig.verify_request`.

        RSA keys come from ``publicKey``; Ed25519 keys from ``assertionMethod``
        Multikeys, bound to the ``ed25519`` algorithm. Returns None when the
        key does not exist or cannot be trusted; raises :class:`FetchError`
        only for transient failures (timeouts, connection errors, 5xx, 429),
        so the sender retries.
        """
        memory = key_memory_for(self.ctx.storage)
        if not refresh and (known := memory.get(key_id)) is not None:
            return known.key
        try:
            actor = await self.by_key_id(key_id, refresh=refresh)
        except NotFound:
            return None
        except FetchError as exc:
            if exc.transient:
                raise
            return None
        key = find_key(actor.document, key_id)
        if key is not None and not self.is_local(key_id):
            memory.remember(key_id, actor, key, parse_text(actor.expires_at))
        return key

    async def _fetch(self, url: str) -> FetchedJson:
        if self._signer is None:
            self._signer = await instance_actor(self.ctx)
        return await fetch_document(self.ctx.require_http(), url, signer=self._signer)

    async def _cached_for_key(self, key_id: str) -> RemoteActor | None:
        async with self.ctx.storage.read() as session:
            actor = await session.get_remote_actor_by_key(key_id)
            if actor is None:
                actor = await session.get_remote_actor(key_id.partition("#")[0])
        if actor is None or _expired(actor) or find_key(actor.document, key_id) is None:
            return None
        return actor

    async def _accept_actor(self, fetched: FetchedJson, *, requested: str) -> RemoteActor:
        """Check a fetched actor document and store it."""
        document = _normalized(fetched.document)
        try:
            validate(document, "actor")
        except SchemaError as exc:
            raise FetchError(
                "invalid-document", f"{fetched.url} is not a usable actor: {exc.detail}",
                url=fetched.url,
            ) from None
        actor_id = document["id"]
        if not same_origin(actor_id, fetched.url) or not same_origin(actor_id, requested):
            raise FetchError(
                "origin-mismatch",
                f"the document at {fetched.url} claims to be {actor_id}, of another origin",
                url=fetched.url,
            )
        if self.is_local(actor_id):
            return await self._local(actor_id)
        record = actor_record(
            document, fetched_at=now_text(), expires_at=to_text(utc_now() + ACTOR_CACHE_TTL)
        )
        async with self.ctx.storage.transaction() as session:
            await session.upsert_remote_actor(record)
        key_memory_for(self.ctx.storage).forget_actor(record.iri)
        return record

    async def _local(self, iri: str) -> RemoteActor:
        """One of this node's actors, built from its own keys, never stored."""
        urls = self.ctx.urls
        prefix = f"{urls.base}/users/"
        if iri == urls.instance_actor:
            document = await instance_actor_document(self.ctx)
        elif iri.startswith(prefix):
            document = await actor_document_by_username(self.ctx, unquote(iri[len(prefix):]))
        else:
            raise NotFound(f"{iri} is not an actor of this node")
        now = now_text()
        return actor_record(document, fetched_at=now, expires_at=now)


def actor_record(document: dict[str, Any], *, fetched_at: str, expires_at: str) -> RemoteActor:
    """The storage record of a schema-valid, normalised actor document."""
    iri = document["id"]
    endpoints = document.get("endpoints")
    shared_inbox = endpoints.get("sharedInbox") if isinstance(endpoints, dict) else None
    key_id, pem = _first_rsa_key(document)
    followers = document.get("followers")
    preferred = document.get("preferredUsername")
    return RemoteActor(
        iri=iri,
        host=urlsplit(iri).netloc.lower(),
        type=next(t for t in _ACTOR_TYPES if has_type(document, t)),
        preferred_username=preferred if isinstance(preferred, str) else None,
        inbox=document["inbox"],
        shared_inbox=shared_inbox if isinstance(shared_inbox, str) else None,
        followers=followers if isinstance(followers, str) else None,
        rsa_key_id=key_id,
        rsa_public_pem=pem,
        document=document,
        fetched_at=fetched_at,
        expires_at=expires_at,
    )


def find_key(document: dict[str, Any], key_id: str) -> PublicKey | VerificationKey | None:
    """The public key ``key_id`` names in an actor document, if the actor owns it."""
    for listed_id, _, key in _pem_keys(document):
        if listed_id == key_id:
            return key
    for listed_id, ed_key in _multikeys(document):
        if listed_id == key_id:
            return VerificationKey(ed_key, algorithm="ed25519")
    return None


def same_origin(first: str, second: str) -> bool:
    """Whether two http(s) URLs share scheme, host and port."""
    return _origin(first) is not None and _origin(first) == _origin(second)


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if scheme not in _DEFAULT_PORTS or not parts.hostname or port is None:
        return None
    return scheme, parts.hostname.lower(), port


def _owned_entries(document: dict[str, Any], term: str, owner_term: str) -> list[dict[str, Any]]:
    """Key entries under ``term`` that name the actor as owner and share its origin."""
    actor_id = document.get("id")
    return [
        entry for entry in as_list(document.get(term))
        if isinstance(entry, dict) and isinstance(entry.get("id"), str)
        and entry.get(owner_term) == actor_id and same_origin(entry["id"], str(actor_id))
    ]


def _pem_keys(document: dict[str, Any]) -> list[tuple[str, str, PublicKey]]:
    """``(key id, PEM, key)`` of every readable ``publicKey`` the actor owns."""
    keys = []
    for entry in _owned_entries(document, "publicKey", "owner"):
        pem = entry.get("publicKeyPem")
        if isinstance(pem, str):
            try:
                keys.append((entry["id"], pem, _load_pem(pem)))
            except KeyFormatError:
                continue
    return keys


def _first_rsa_key(document: dict[str, Any]) -> tuple[str | None, str | None]:
    for key_id, pem, key in _pem_keys(document):
        if isinstance(key, rsa.RSAPublicKey):
            return key_id, pem
    return None, None


def _multikeys(document: dict[str, Any]) -> list[tuple[str, Any]]:
    keys = []
    for entry in _owned_entries(document, "assertionMethod", "controller"):
        text = entry.get("publicKeyMultibase")
        if has_type(entry, "Multikey") and isinstance(text, str):
            try:
                keys.append((entry["id"], multikey_decode(text)))
            except KeyFormatError:
                continue
    return keys


@lru_cache(maxsize=1024)
def _load_pem(pem: str) -> PublicKey:
    # Parsing PEM costs more than verifying a signature; keys repeat a lot.
    return load_public_key_pem(pem)


def _normalized(document: dict[str, Any]) -> dict[str, Any]:
    try:
        return normalize(document, KULA_ACTOR_CONTEXT)
    except JsonLdError:
        # A context we do not bundle cannot be processed offline; read the
        # plain terms as written, which is what the rest of the fediverse does.
        return document


def _require_key(actor: RemoteActor, key_id: str) -> None:
    if not same_origin(key_id, actor.iri) or find_key(actor.document, key_id) is None:
        raise FetchError(
            "key-mismatch", f"actor {actor.iri} does not list the key {key_id}", url=actor.iri
        )


def _expired(actor: RemoteActor) -> bool:
    return parse_text(actor.expires_at) <= utc_now()

