"""Client API: attestations and reputation."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.errors import ValidationFailed
from node.federation import lookup
from node.services import accounts, attestations, reputation
from node.storage.records import Attestation
from node.typedefs import context_key
from node.web.requests import read_json, require

routes = web.RouteTableDef()


def attestation_json(
    record: Attestation, answer: tuple[str, str] | None = None
) -> dict[str, Any]:
    return {
        "iri": record.iri,
        "issuer": record.issuer_iri,
        "subject": record.subject_iri,
        "agreement": record.agreement_iri,
        "issuer_role": record.issuer_role,
        "subject_role": record.subject_role,
        "rating": record.rating,
        "comment": record.comment,
        "valid_from": record.valid_from,
        "supersedes": record.supersedes,
        "withdrawn": record.withdrawn_at is not None,
        # Only attestations whose proof and agreement checked out are ever stored.
        "verified": True,
        "reply": None if answer is None else {"content": answer[0], "published": answer[1]},
    }


@routes.post("/api/v1/exchanges/{exchange_id}/attestation")
async def attest(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    body = await read_json(request, "api-attestation-request")
    record = await attestations.issue(
        request.app[context_key], principal.member, request.match_info["exchange_id"],
        attestations.check_rating(body["rating"]), body.get("comment"),
    )
    return web.json_response(attestation_json(record), status=201)


@routes.delete("/api/v1/attestations/{attestation_id}")
async def withdraw(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    ctx = request.app[context_key]
    iri = f"{ctx.urls.base}/attestations/{request.match_info['attestation_id']}"
    await attestations.withdraw(ctx, principal.member, iri)
    return web.Response(status=204)


@routes.get("/api/v1/members/{username}/attestations")
async def member_attestations(request: web.Request) -> web.Response:
    ctx = request.app[context_key]
    member = await accounts.get_member_by_username(ctx, request.match_info["username"])
    iri = ctx.urls.actor(member.username)
    async with ctx.storage.read() as session:
        received = [
            attestation_json(r, await session.attestation_reply(r.iri))
            for r in await session.attestations_about([iri])
        ]
        given = [
            attestation_json(r, await session.attestation_reply(r.iri))
            for r in await session.attestations_by(iri)
        ]
    return web.json_response({"received": received, "given": given})


@routes.post("/api/v1/attestation-replies")
async def answer_attestation(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    body = await read_json(request, "api-attestation-reply-request")
    note_iri = await attestations.reply(
        request.app[context_key], principal.member, body["attestation"], body["content"]
    )
    return web.json_response({"iri": note_iri}, status=201)


@routes.get("/api/v1/reputation")
async def reputation_of(request: web.Request) -> web.Response:
    ctx = request.app[context_key]
    actor = request.query.get("actor", "").strip()
    if not actor or len(actor) > 2048:
        raise ValidationFailed(
            "the 'actor' query parameter (a handle or an actor IRI) is required",
            errors=[{"pointer": "/actor", "reason": "required"}],
        )
    if not actor.startswith(("https://", "http://")):
        actor = await lookup.resolve_actor_iri(ctx, actor)
    result = await reputation.reputation_of(ctx, actor)
    return web.json_response(reputation.reputation_json(result))
