"""Attacks on the request itself: hostile JSON, sizes, media types, methods.

JSON is parsed before the signature is checked (the digest needs the body
anyway), so each hostile body is signed correctly: only the JSON is wrong.
"""

from __future__ import annotations

from tests.security.attacks import (
    CONTENT_TYPE,
    HOSTILE_JSON,
    OVERSIZED,
    Refused,
    Request,
    attack,
    harmless,
    signed,
)
from tests.security.scene import Scene

MALFORMED_JSON = Refused(400, "malformed-json")
TOO_LARGE = Refused(413, "payload-too-large")


def _hostile_body(scene: Scene, body: bytes) -> Request:
    return signed(scene, "dave", {}, body=body)


HOSTILE_BODIES: dict[str, tuple[bytes, Refused]] = {
    "duplicate_keys": (b'{"type": "Follow", "type": "Delete"}', MALFORMED_JSON),
    "nan": (b'{"type": "Follow", "n": NaN}', MALFORMED_JSON),
    "infinity": (b'{"type": "Follow", "n": -Infinity}', MALFORMED_JSON),
    "number_overflowing_a_double": (b'{"n": 1e400}', MALFORMED_JSON),
    "integer_beyond_2_53": (b'{"n": 9007199254740993}', MALFORMED_JSON),
    "lone_surrogate": (b'{"name": "\\ud800"}', MALFORMED_JSON),
    "invalid_utf8": (b'{"name": "\xff\xfe"}', MALFORMED_JSON),
    "byte_order_mark": (b'\xef\xbb\xbf{"type": "Follow"}', MALFORMED_JSON),
    "trailing_garbage": (b'{"type": "Follow"} {"type": "Delete"}', MALFORMED_JSON),
    "truncated": (b'{"type": "Follow", "id": "http', MALFORMED_JSON),
    "empty": (b"", MALFORMED_JSON),
    "deep_nesting": (b"[" * 5000 + b"]" * 5000, TOO_LARGE),
    "deep_object_nesting": (b'{"a":' * 3000 + b"1" + b"}" * 3000, TOO_LARGE),
    "huge_array": (b"[" + b"0," * 60_000 + b"0]", TOO_LARGE),
    "top_level_array": (b'[{"type": "Follow"}]', Refused(403, "forbidden")),
    "top_level_string": (b'"Follow"', Refused(403, "forbidden")),
}


def _register_body(kind: str, body: bytes, expect: Refused) -> None:
    async def build(scene: Scene) -> Request:
        return _hostile_body(scene, body)

    build.__name__ = f"hostile_json_{kind}"
    attack(HOSTILE_JSON, expect)(build)


for _kind, (_body, _expect) in HOSTILE_BODIES.items():
    _register_body(_kind, _body, _expect)


@attack(HOSTILE_JSON, Refused(422, "validation-failed"))
async def huge_string_within_the_size_limit(scene: Scene) -> Request:
    return signed(scene, "dave", harmless(scene) | {"summary": "x" * 200_000})


@attack(HOSTILE_JSON, Refused(422, "validation-failed"))
async def activity_with_a_javascript_id(scene: Scene) -> Request:
    return signed(scene, "dave", harmless(scene) | {"id": "javascript:alert(1)"})


@attack(HOSTILE_JSON, Refused(422, "validation-failed"))
async def activity_with_a_thousand_types(scene: Scene) -> Request:
    return signed(scene, "dave", harmless(scene) | {"type": ["Announce"] * 1000})


@attack(HOSTILE_JSON, Refused(422, "validation-failed"))
async def activity_without_an_actor(scene: Scene) -> Request:
    document = harmless(scene)
    del document["actor"]
    return signed(scene, "dave", document)


# --- oversized bodies ---------------------------------------------------------------


@attack(OVERSIZED, TOO_LARGE)
async def body_over_the_limit_with_content_length(scene: Scene) -> Request:
    limit = scene.victim.ctx.settings.max_body_bytes
    return _hostile_body(scene, b'{"a": "' + b"x" * limit + b'"}')


@attack(OVERSIZED, TOO_LARGE)
async def chunked_body_over_the_limit(scene: Scene) -> Request:
    limit = scene.victim.ctx.settings.max_body_bytes
    request = _hostile_body(scene, b'{"a": "' + b"x" * limit + b'"}')
    return Request(request.body, request.headers, chunked=True)


@attack(OVERSIZED, TOO_LARGE)
async def body_over_the_servers_own_limit(scene: Scene) -> Request:
    # Larger than aiohttp's client_max_size too; refused on its Content-Length.
    request = signed(scene, "dave", harmless(scene))
    return Request(b"x" * (12 * 1024 * 1024), request.headers)


# --- media types and methods ----------------------------------------------------------


def _typed(scene: Scene, content_type: str | None) -> Request:
    request = signed(scene, "dave", harmless(scene))
    headers = {k: v for k, v in request.headers.items() if k.lower() != "content-type"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return Request(request.body, headers)


WRONG_TYPES = {
    "text_plain": "text/plain",
    "html": "text/html",
    "form": "application/x-www-form-urlencoded",
    "multipart": "multipart/form-data; boundary=x",
    "xml": "application/xml",
    "octet_stream": None,  # no Content-Type at all
}


def _register_type(kind: str, content_type: str | None) -> None:
    async def build(scene: Scene) -> Request:
        return _typed(scene, content_type)

    build.__name__ = f"content_type_{kind}"
    attack(CONTENT_TYPE, Refused(415, "unsupported-media-type"))(build)


for _kind, _type in WRONG_TYPES.items():
    _register_type(_kind, _type)


@attack(CONTENT_TYPE, Refused(405, "method-not-allowed"))
async def put_to_the_inbox(scene: Scene) -> Request:
    request = signed(scene, "dave", harmless(scene))
    return Request(request.body, request.headers, method="PUT")


@attack(CONTENT_TYPE, Refused(404, "not-found"))
async def inbox_of_nobody(scene: Scene) -> Request:
    return signed(scene, "dave", harmless(scene), path="/users/nobody/inbox")


@attack(CONTENT_TYPE, Refused(404, "not-found"))
async def inbox_path_with_traversal(scene: Scene) -> Request:
    return signed(scene, "dave", harmless(scene), path="/users/%2e%2e%2fadmin/inbox")
