"""draft-cavage-http-signatures-12: the signature scheme Mastodon and most of the fediverse speak.

Two deliberate departures from the draft's letter, both for interoperability:

* Without a ``headers`` parameter the covered list is ``date`` (as in the
  draft's own Appendix C and every older revision), not ``(created)``.
* ``(created)`` and ``(expires)`` are accepted with ``rsa-sha256`` too: the
  draft's Appendix C "All Headers" test does exactly that.

``hs2019`` takes its real algorithm from the key: RSA keys sign with
RSASSA-PKCS1-v1_5 SHA-256 (as Mastodon does), Ed25519 keys with Ed25519.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass

from protocol.httpsig import algorithms
from protocol.httpsig.errors import HttpSignatureError, Reason
from protocol.httpsig.keys import PrivateKey, PublicKey
from protocol.httpsig.message import HttpMessage

RSA_SHA256 = "rsa-sha256"
HS2019 = "hs2019"
DEFAULT_HEADERS = ("date",)

REQUEST_TARGET = "(request-target)"
CREATED = "(created)"
EXPIRES = "(expires)"

# One `name="quoted"` or `name=123` parameter, then a comma or the end. The
# quoted part is written as runs of plain characters between escapes, which
# the regex engine matches far faster than one alternation per character.
_PARAM = re.compile(r'\s*([A-Za-z]+)\s*=\s*(?:"([^"\\]*(?:\\.[^"\\]*)*)"|(\d+))\s*(?:,|$)')
_KNOWN_PARAMS = frozenset({"keyid", "algorithm", "headers", "signature", "created", "expires"})


@dataclass(frozen=True)
class CavageSignature:
    """The parameters of a cavage ``Signature`` header."""

    key_id: str
    signature: bytes
    headers: tuple[str, ...] = DEFAULT_HEADERS
    algorithm: str | None = None
    created: int | None = None
    expires: int | None = None


def parse_signature_header(value: str) -> CavageSignature:
    """Parse a ``Signature`` value (or ``Authorization: Signature`` parameters)."""
    params = _scan_plain_params(value)
    if params is None:
        params = _match_params(value)
    for required in ("keyid", "signature"):
        if not params.get(required):
            raise HttpSignatureError(Reason.MALFORMED_HEADER, f"parameter {required} missing")
    try:
        signature = base64.b64decode(params["signature"], validate=True)
    except ValueError as exc:  # binascii.Error, or a non-ASCII character
        raise HttpSignatureError(Reason.MALFORMED_HEADER, "signature is not base64") from exc
    if not value.isascii():  # one scan spares the usual, all-ASCII header the checks below
        # Octets that are not UTF-8 arrive as lone surrogates; no key id or field
        # name holds them, and storage and error messages cannot encode them.
        for name in ("keyid", "headers"):
            if name in params and not _is_utf8(params[name]):
                raise HttpSignatureError(Reason.MALFORMED_HEADER, f"{name} is not UTF-8")
    headers = tuple(params["headers"].lower().split()) if "headers" in params else DEFAULT_HEADERS
    if not headers:
        raise HttpSignatureError(Reason.MALFORMED_HEADER, "headers parameter is empty")
    return CavageSignature(
        key_id=params["keyid"],
        signature=signature,
        headers=headers,
        algorithm=params["algorithm"].lower() if "algorithm" in params else None,
        created=_integer(params, "created"),
        expires=_integer(params, "expires"),
    )


def _scan_plain_params(value: str) -> dict[str, str] | None:
    """Parameters of the usual header, split apart without the regex.

    Covers only ``name="text"`` parameters joined by bare commas, without
    whitespace, escapes, numbers or repeats: what Mastodon and most servers
    send. The regex spends most of its time walking the long base64 signature
    one character at a time. Anything else returns ``None`` and goes to
    :func:`_match_params`, which accepts it or words the error exactly as
    before; whatever this accepts, :func:`_match_params` reads the same way.
    """
    if not value.endswith('"') or "\\" in value:
        return None
    params: dict[str, str] = {}
    # With no '"' inside the texts, '",' can only be the end of one parameter.
    for part in value[:-1].split('",'):
        name, quote, text = part.partition('="')
        if not (quote and name.isascii() and name.isalpha()) or '"' in text:
            return None
        name = name.lower()
        if name in params:
            return None
        params[name] = text
    return params


def _match_params(value: str) -> dict[str, str]:
    """Parameters by the full grammar: whitespace, escapes, and the precise errors."""
    params: dict[str, str] = {}
    position = 0
    while position < len(value):
        match = _PARAM.match(value, position)
        if match is None:
            raise HttpSignatureError(
                Reason.MALFORMED_HEADER, f"cannot parse Signature at offset {position}"
            )
        name = match.group(1).lower()
        if name in params:
            raise HttpSignatureError(Reason.MALFORMED_HEADER, f"parameter {name} repeated")
        quoted = match.group(2)
        if quoted is None:
            params[name] = match.group(3)
        else:
            params[name] = re.sub(r"\\(.)", r"\1", quoted) if "\\" in quoted else quoted
        position = match.end()
    return params


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _integer(params: dict[str, str], name: str) -> int | None:
    if name not in params:
        return None
    text = params[name]
    if text.isdigit():
        try:
            return int(text)
        except ValueError:  # a digit int() does not read ("²"), or more digits than it parses
            pass
    raise HttpSignatureError(Reason.MALFORMED_HEADER, f"{name} is not an integer")


def format_signature_header(parsed: CavageSignature) -> str:
    """Serialise a ``Signature`` value in the order Mastodon writes it."""
    parts = [f'keyId="{_quote(parsed.key_id)}"']
    if parsed.algorithm is not None:
        parts.append(f'algorithm="{parsed.algorithm}"')
    if parsed.created is not None:
        parts.append(f"created={parsed.created}")
    if parsed.expires is not None:
        parts.append(f"expires={parsed.expires}")
    parts.append(f'headers="{" ".join(parsed.headers)}"')
    parts.append(f'signature="{base64.b64encode(parsed.signature).decode("ascii")}"')
    return ",".join(parts)


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def build_signing_string(
    message: HttpMessage,
    headers: Sequence[str],
    *,
    created: int | None = None,
    expires: int | None = None,
) -> str:
    """Build the cavage-12 §2.3 signing string for the covered ``headers``."""
    lines = []
    for name in headers:
        name = name.lower()
        if name == REQUEST_TARGET:
            if message.method is None:
                raise HttpSignatureError(
                    Reason.INVALID_COMPONENT, "(request-target) needs a request"
                )
            value = f"{message.method.lower()} {message.request_target}"
        elif name in (CREATED, EXPIRES):
            number = created if name == CREATED else expires
            if number is None:
                raise HttpSignatureError(Reason.MALFORMED_HEADER, f"{name} covered but not given")
            value = str(number)
        else:
            combined = message.fields.combined(name)
            if combined is None:
                raise HttpSignatureError(Reason.MISSING_HEADER, f"covered header {name} is absent")
            value = combined
        lines.append(f"{name}: {value}")
    return "\n".join(lines)


def resolve_algorithm(name: str | None, key: PrivateKey | PublicKey) -> str:
    """Map a cavage ``algorithm`` to the RFC 9421 primitive it means with ``key``.

    ``rsa-sha256`` demands an RSA key; ``hs2019`` (or no algorithm) lets an RSA
    or Ed25519 key decide. Anything else, HMAC included, is refused.
    """
    if name == RSA_SHA256:
        algorithms.check_algorithm_and_key(algorithms.RSA_V1_5_SHA256, key)
        return algorithms.RSA_V1_5_SHA256
    if name not in (HS2019, None):
        raise HttpSignatureError(Reason.UNSUPPORTED_ALGORITHM, f"cavage algorithm {name!r}")
    if isinstance(key, bytes):
        raise HttpSignatureError(
            Reason.ALGORITHM_KEY_MISMATCH, "hs2019 needs an RSA or Ed25519 key"
        )
    primitive = algorithms.default_algorithm_for_key(key)
    if primitive not in (algorithms.RSA_V1_5_SHA256, algorithms.ED25519):
        raise HttpSignatureError(
            Reason.ALGORITHM_KEY_MISMATCH, f"hs2019 cannot use a {type(key).__name__}"
        )
    return primitive


def sign(
    message: HttpMessage,
    *,
    key_id: str,
    private_key: PrivateKey,
    headers: Sequence[str],
    algorithm: str = HS2019,
    created: int | None = None,
    expires: int | None = None,
) -> str:
    """Sign ``message`` and return the ``Signature`` header value."""
    primitive = resolve_algorithm(algorithm, private_key)
    signing_string = build_signing_string(message, headers, created=created, expires=expires)
    signature = algorithms.sign(primitive, private_key, signing_string.encode("utf-8"))
    return format_signature_header(
        CavageSignature(
            key_id=key_id,
            signature=signature,
            headers=tuple(name.lower() for name in headers),
            algorithm=algorithm,
            created=created,
            expires=expires,
        )
    )
