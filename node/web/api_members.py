"""Client API: registration, sessions, the caller's account and tokens, and
the operator's member and invite administration."""

from __future__ import annotations

from aiohttp import web

from node.errors import Forbidden
from node.services import accounts, export, invites, moves, tokens
from node.typedefs import context_key, settings_key
from node.web.representations import invite_json, member_json, token_json
from node.web.requests import SESSION_COOKIE, limit_auth, read_json, require

routes = web.RouteTableDef()


@routes.post("/api/v1/members")
async def register(request: web.Request) -> web.Response:
    limit_auth(request)
    body = await read_json(request, "api-register-request")
    ctx = request.app[context_key]
    member = await accounts.register(
        ctx, body["username"], body["password"], body.get("invite_code")
    )
    return web.json_response(member_json(ctx, member, private=True), status=201)


@routes.get("/api/v1/members/{username}")
async def show_member(request: web.Request) -> web.Response:
    ctx = request.app[context_key]
    member = await accounts.get_member_by_username(ctx, request.match_info["username"])
    return web.json_response(member_json(ctx, member))


@routes.post("/api/v1/sessions")
async def login(request: web.Request) -> web.Response:
    limit_auth(request)
    body = await read_json(request, "api-login-request")
    ctx = request.app[context_key]
    member = await accounts.authenticate(ctx, body["username"], body["password"])
    scope = "admin" if member.is_admin else "write"
    issued = await tokens.issue_token(ctx, member, "session", scope, kind="session")
    response = web.json_response(
        {
            "token": issued.secret,
            "token_id": issued.token.id,
            "scope": issued.token.scope,
            "expires_at": issued.token.expires_at,
            "member": member_json(ctx, member, private=True),
        },
        status=201,
    )
    response.set_cookie(
        SESSION_COOKIE,
        issued.secret,
        httponly=True,
        secure=request.app[settings_key].uses_https,
        samesite="Lax",
        max_age=tokens.SESSION_DAYS * 86400,
        path="/",
    )
    return response


@routes.delete("/api/v1/sessions/current")
async def logout(request: web.Request) -> web.Response:
    principal = await require(request, "read")
    await tokens.revoke_token(request.app[context_key], principal.member, principal.token.id)
    response = web.Response(status=204)
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


@routes.get("/api/v1/me")
async def me(request: web.Request) -> web.Response:
    principal = await require(request, "read")
    return web.json_response(member_json(request.app[context_key], principal.member, private=True))


@routes.patch("/api/v1/me")
async def update_me(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    body = await read_json(request, "api-profile-update-request")
    ctx = request.app[context_key]
    member = principal.member
    aliases = (await moves.resolve_aliases(ctx, member, body["also_known_as"])
               if "also_known_as" in body else None)
    updated = await accounts.update_profile(
        ctx, member,
        display_name=body.get("display_name", member.display_name),
        summary=body.get("summary", member.summary),
        manually_approves_followers=body.get(
            "manually_approves_followers", member.manually_approves_followers
        ),
        also_known_as=aliases,
    )
    return web.json_response(member_json(ctx, updated, private=True))


@routes.get("/api/v1/me/export")
async def export_me(request: web.Request) -> web.Response:
    principal = await require(request, "read")
    document = await export.export_member(request.app[context_key], principal.member)
    response = web.json_response(document)
    filename = export.export_filename(principal.member, document["exported_at"])
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.post("/api/v1/me/password")
async def change_password(request: web.Request) -> web.Response:
    limit_auth(request)
    principal = await require(request, "write")
    body = await read_json(request, "api-password-change-request")
    await accounts.change_password(
        request.app[context_key], principal.member, body["current_password"], body["new_password"],
        keep_session=principal.token.id,
    )
    return web.Response(status=204)


@routes.post("/api/v1/me/move")
async def move_account(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    body = await read_json(request, "api-move-request")
    ctx = request.app[context_key]
    new_iri = await moves.move(ctx, principal.member, body["target"])
    return web.json_response({"moved_to": new_iri})


@routes.get("/api/v1/tokens")
async def list_tokens(request: web.Request) -> web.Response:
    principal = await require(request, "read")
    found = await tokens.list_tokens(request.app[context_key], principal.member)
    return web.json_response({"items": [token_json(t) for t in found]})


@routes.post("/api/v1/tokens")
async def create_token(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    body = await read_json(request, "api-token-create-request")
    scope = body.get("scope", "read")
    if not principal.allows(scope):
        raise Forbidden("a token cannot grant more than the token that creates it")
    issued = await tokens.issue_token(
        request.app[context_key], principal.member, body["name"], scope
    )
    return web.json_response({**token_json(issued.token), "token": issued.secret}, status=201)


@routes.delete("/api/v1/tokens/{token_id}")
async def revoke_token(request: web.Request) -> web.Response:
    principal = await require(request, "write")
    await tokens.revoke_token(
        request.app[context_key], principal.member, request.match_info["token_id"]
    )
    return web.Response(status=204)


@routes.get("/api/v1/admin/invites")
async def list_invites(request: web.Request) -> web.Response:
    await require(request, "admin")
    found = await invites.list_invites(request.app[context_key])
    return web.json_response({"items": [invite_json(i) for i in found]})


@routes.post("/api/v1/admin/invites")
async def create_invite(request: web.Request) -> web.Response:
    principal = await require(request, "admin")
    body = await read_json(request, "api-invite-create-request")
    issued = await invites.create_invite(
        request.app[context_key],
        created_by=principal.member.id,
        max_uses=body.get("max_uses", 1),
        expires_in_days=body.get("expires_in_days", 14),
        note=body.get("note", ""),
        vouch_by=principal.member.id if body.get("vouch") else None,
    )
    return web.json_response({**invite_json(issued.invite), "code": issued.code}, status=201)


@routes.delete("/api/v1/admin/invites/{invite_id}")
async def revoke_invite(request: web.Request) -> web.Response:
    await require(request, "admin")
    await invites.revoke_invite(request.app[context_key], request.match_info["invite_id"])
    return web.Response(status=204)


@routes.get("/api/v1/admin/members")
async def list_members(request: web.Request) -> web.Response:
    await require(request, "admin")
    ctx = request.app[context_key]
    async with ctx.storage.read() as session:
        members = await session.list_members(limit=1000)
    return web.json_response({"items": [member_json(ctx, m, private=True) for m in members]})


@routes.post("/api/v1/admin/members/{username}/suspension")
async def suspend_member(request: web.Request) -> web.Response:
    await require(request, "admin")
    ctx = request.app[context_key]
    member = await accounts.set_suspended(ctx, request.match_info["username"], True)
    return web.json_response(member_json(ctx, member, private=True))


@routes.delete("/api/v1/admin/members/{username}/suspension")
async def unsuspend_member(request: web.Request) -> web.Response:
    await require(request, "admin")
    ctx = request.app[context_key]
    member = await accounts.set_suspended(ctx, request.match_info["username"], False)
    return web.json_response(member_json(ctx, member, private=True))
