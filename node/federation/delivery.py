"""Outbound delivery: claim due rows, sign, POST to the inbox, record the outcome.

Each ``deliveries`` row (one per activity and recipient inbox) moves
``new`` → ``sending`` → ``delivered`` | ``retrying`` | ``failed``. Claiming
sets a lock expiry in one short transaction, so concurrent workers never hold
the same row and a dead worker's rows come back once the lock lapses. No
transaction stays open across network I/O: every outcome is written in its
own short transaction as soon as it is known.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import weakref
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp

from node.federation.delivery_policy import (
    DELIVERED,
    FAILED,
    RETRYING,
    DeliveryPolicy,
    HostBreakers,
)
from node.federation.policy import host_allowed
from node.federation.ssrf import UnsafeAddressError, check_url
from node.keys import load_ed25519_private, load_rsa_private
from node.services.actors import local_actor_by_iri
from node.services.context import NodeContext
from node.storage.records import Delivery
from node.timeutil import parse_text, to_text, utc_now
from protocol.httpsig import PrivateKey, sign_request

log = logging.getLogger("kula.federation.delivery")

ACTIVITY_JSON = "application/activity+json"
SIGNATURE_SCHEMES = ("cavage", "rfc9421")
#: A row handed back unsent; not a stored state (the row becomes ``retrying``).
_RELEASED = "released"
#: How much of a refusal's body is kept in ``last_error`` for the operator.
_SNIPPET_BYTES = 300

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class _Signer:
    key_id: str
    private_key: PrivateKey


@dataclass(frozen=True)
class _Outcome:
    state: str
    status: int | None = None
    error: str | None = None
    next_attempt_at: datetime | None = None


@dataclass(frozen=True)
class _Prepared:
    """What a cycle's rows share: each activity's body and each actor's key,
    loaded once per cycle; None marks one that cannot be found."""

    bodies: dict[str, bytes | None]
    signers: dict[str, _Signer | None]
    allow_private: bool
    #: Hosts the node's policy forbids right now (a block set after queueing).
    refused_hosts: frozenset[str] = frozenset()


class DeliveryWorker:
    """Sends due deliveries, a batch per :meth:`run_once` call.

    Holds what must outlive a cycle in this process: the per-host circuit
    breakers and the concurrency limits. ``clock`` and ``rng`` decide all
    scheduling, so tests step it without waiting.
    """

    def __init__(
        self,
        *,
        policy: DeliveryPolicy | None = None,
        breakers: HostBreakers | None = None,
        per_host_limit: int = 4,
        global_limit: int = 32,
        signature_scheme: str = "cavage",
        lock_duration: timedelta = timedelta(minutes=2),
        request_timeout: float = 10.0,
        clock: Clock = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        if signature_scheme not in SIGNATURE_SCHEMES:
            raise ValueError(f"signature_scheme must be one of {SIGNATURE_SCHEMES}")
        self.policy = policy or DeliveryPolicy()
        self.breakers = breakers or HostBreakers()
        self.signature_scheme = signature_scheme
        self.lock_duration = lock_duration
        self.request_timeout = request_timeout
        self._per_host_limit = per_host_limit
        self._global = asyncio.Semaphore(global_limit)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._clock = clock
        self._rng = rng or random.Random()

    async def run_once(
        self, ctx: NodeContext, session: aiohttp.ClientSession, *, limit: int = 200
    ) -> int:
        """Claim up to ``limit`` due rows, send them concurrently and record each
        outcome; returns how many rows were claimed."""
        now = self._clock()
        async with ctx.storage.transaction() as tx:
            rows = await tx.claim_deliveries(
                to_text(now), to_text(now + self.lock_duration), limit
            )
        if not rows:
            return 0
        prepared = await self._prepare(ctx, rows)
        results = await asyncio.gather(
            *(self._deliver(ctx, session, row, prepared) for row in rows),
            return_exceptions=True,
        )
        for row, result in zip(rows, results, strict=True):
            if isinstance(result, BaseException):
                # Only recording can fail here (storage gone); the lock lapses
                # and the row is claimed again later.
                log.error("could not record delivery outcome", exc_info=result,
                          extra={"delivery": row.id})
        return len(rows)

    async def _prepare(self, ctx: NodeContext, rows: Iterable[Delivery]) -> _Prepared:
        bodies: dict[str, bytes | None] = {}
        signers: dict[str, _Signer | None] = {}
        refused: set[str] = set()
        async with ctx.storage.read() as session:
            for host in {row.host for row in rows}:
                if not await host_allowed(ctx, session, host):
                    refused.add(host)
            for row in rows:
                if row.activity_iri not in bodies:
                    document = await session.get_activity_document_by_iri(row.activity_iri)
                    bodies[row.activity_iri] = (
                        None if document is None
                        else json.dumps(document, ensure_ascii=False,
                                        separators=(",", ":")).encode("utf-8")
                    )
        for row in rows:
            if row.actor_iri not in signers:
                signers[row.actor_iri] = await self._signer(ctx, row.actor_iri)
        return _Prepared(
            bodies, signers, ctx.settings.allow_private_network, frozenset(refused)
        )

    async def _signer(self, ctx: NodeContext, actor_iri: str) -> _Signer | None:
        local = await local_actor_by_iri(ctx, actor_iri)
        if local is None:
            return None
        if self.signature_scheme == "rfc9421":
            return _Signer(local.ed25519_key_id, load_ed25519_private(local.ed25519_private_pem))
        return _Signer(local.rsa_key_id, load_rsa_private(local.rsa_private_pem))

    async def _deliver(
        self, ctx: NodeContext, session: aiohttp.ClientSession, row: Delivery,
        prepared: _Prepared,
    ) -> None:
        try:
            outcome = await self._attempt(session, row, prepared)
        except Exception as exc:
            # A bug must cost one row a retry, never the whole batch.
            log.exception("delivery attempt crashed", extra={"delivery": row.id})
            outcome = self._retry(row, None, f"internal error: {exc!r}", None)
        await self._record(ctx, row, outcome)

    async def _attempt(
        self, session: aiohttp.ClientSession, row: Delivery, prepared: _Prepared
    ) -> _Outcome:
        now = self._clock()
        if self.policy.expired(parse_text(row.created_at), now):
            return _Outcome(FAILED, error=f"gave up: queued since {row.created_at}")
        body = prepared.bodies.get(row.activity_iri)
        if body is None:
            return _Outcome(FAILED, error=f"activity {row.activity_iri} is not stored")
        if row.host in prepared.refused_hosts:
            return _Outcome(FAILED, error=f"{row.host} is blocked by this node's policy")
        signer = prepared.signers.get(row.actor_iri)
        if signer is None:
            return _Outcome(FAILED, error=f"{row.actor_iri} is not an actor of this node")
        try:
            check_url(row.inbox, allow_private=prepared.allow_private)
        except UnsafeAddressError as exc:
            return _Outcome(FAILED, error=f"inbox {row.inbox!r} refused: {exc.detail}")
        breaker = self.breakers.for_host(row.host)
        async with self._slot(row.host):
            now = self._clock()
            request_ends = now + timedelta(seconds=self.request_timeout)
            if row.locked_until and request_ends > parse_text(row.locked_until):
                # Waited so long for a slot that the lock could lapse mid-request,
                # letting another worker send the row too: hand it back instead.
                return _Outcome(_RELEASED, next_attempt_at=now)
            paused_until = breaker.admit(now)
            if paused_until is not None:
                return _Outcome(_RELEASED, next_attempt_at=paused_until)
            try:
                status, retry_after, snippet = await self._post(session, row, body, signer)
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                breaker.record_failure(self._clock())
                return self._retry(row, None, _network_error(exc, self.request_timeout), None)
            except UnsafeAddressError as exc:
                # The host name resolved to an address the node must not reach.
                breaker.abandon_probe()
                return _Outcome(FAILED, error=f"inbox {row.inbox!r} refused: {exc.detail}")
            except BaseException:
                breaker.abandon_probe()
                raise
        now = self._clock()
        verdict = self.policy.classify(status, retry_after, now=now)
        if verdict.state == RETRYING:
            breaker.record_failure(now)
            if verdict.retry_after is not None:
                breaker.pause_until(now + verdict.retry_after)
            return self._retry(row, status, verdict.reason, verdict.retry_after)
        # A refusal is still an answer: the host is up.
        breaker.record_success()
        if verdict.state == DELIVERED:
            return _Outcome(DELIVERED, status=status)
        detail = f"{verdict.reason}: {snippet}" if snippet else verdict.reason
        return _Outcome(FAILED, status=status, error=detail)

    def _retry(
        self, row: Delivery, status: int | None, reason: str, retry_after: timedelta | None
    ) -> _Outcome:
        now = self._clock()
        wait = retry_after if retry_after is not None else self.policy.backoff(
            row.attempts, self._rng
        )
        next_attempt = now + wait
        breaker = self.breakers.for_host(row.host)
        if breaker.open_until is not None and breaker.open_until > next_attempt:
            # No use coming back while the host's breaker is still open.
            next_attempt = breaker.open_until
        if next_attempt >= self.policy.deadline(parse_text(row.created_at)):
            return _Outcome(FAILED, status=status,
                            error=f"gave up after {row.attempts} attempts: {reason}")
        return _Outcome(RETRYING, status=status, error=reason, next_attempt_at=next_attempt)

    @contextlib.asynccontextmanager
    async def _slot(self, host: str) -> AsyncIterator[None]:
        # Host slot first: rows queued behind a busy host must not sit on
        # global slots that other hosts' rows could use.
        semaphore = self._hosts.get(host)
        if semaphore is None:
            semaphore = self._hosts[host] = asyncio.Semaphore(self._per_host_limit)
        async with semaphore, self._global:
            yield

    async def _post(
        self, session: aiohttp.ClientSession, row: Delivery, body: bytes, signer: _Signer
    ) -> tuple[int, str | None, str]:
        headers = sign_request(
            "POST", row.inbox, {"Content-Type": ACTIVITY_JSON}, body,
            key_id=signer.key_id, private_key=signer.private_key, scheme=self.signature_scheme,
        )
        async with session.post(
            row.inbox, data=body, headers=headers, allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=self.request_timeout),
        ) as response:
            snippet = await response.content.read(_SNIPPET_BYTES)
            return (response.status, response.headers.get("Retry-After"),
                    snippet.decode("utf-8", "replace").strip())

    async def _record(self, ctx: NodeContext, row: Delivery, outcome: _Outcome) -> None:
        now = to_text(self._clock())
        next_attempt = None if outcome.next_attempt_at is None else to_text(
            outcome.next_attempt_at
        )
        async with ctx.storage.transaction() as tx:
            if outcome.state == _RELEASED:
                assert next_attempt is not None
                await tx.release_delivery(row.id, next_attempt_at=next_attempt, now=now)
                return
            await tx.finish_delivery(
                row.id, outcome.state, status=outcome.status, error=outcome.error,
                next_attempt_at=next_attempt, now=now,
            )
        level = logging.WARNING if outcome.state == FAILED else logging.DEBUG
        log.log(level, "delivery %s", outcome.state, extra={
            "delivery": row.id, "inbox": row.inbox, "status": outcome.status,
            "error": outcome.error,
        })


def _network_error(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


# The worker step -------------------------------------------------------------

_workers: dict[int, DeliveryWorker] = {}


def worker_for(ctx: NodeContext) -> DeliveryWorker:
    """The process-wide worker for ``ctx``, made with defaults on first use."""
    worker = _workers.get(id(ctx))
    if worker is None:
        worker = DeliveryWorker(signature_scheme=ctx.settings.delivery_signature_scheme)
        set_worker(ctx, worker)
    return worker


def set_worker(ctx: NodeContext, worker: DeliveryWorker) -> None:
    """Use ``worker`` (e.g. configured for RFC 9421) for ``ctx``'s deliveries."""
    key = id(ctx)
    if key not in _workers:
        # The entry goes with the context, so a reused id never finds a stale worker.
        weakref.finalize(ctx, _workers.pop, key, None)
    _workers[key] = worker


async def deliver_due(ctx: NodeContext) -> int:
    """Worker step: one delivery cycle; returns how many rows it handled."""
    return await worker_for(ctx).run_once(ctx, ctx.require_http().session)
