"""Sign an outgoing request with either scheme and return the headers to send.

Default coverage mirrors between the schemes:

* cavage: ``(request-target) host date``, plus ``digest`` when there is a body;
* RFC 9421: ``"@method" "@target-uri" "@authority"``, plus ``"content-digest"``
  when there is a body, with the ``created``, ``keyid`` and ``alg`` parameters
  (``expires`` when given). ``@authority`` repeats what ``@target-uri`` holds
  so that verifiers that insist on it explicitly are satisfied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime

from protocol.httpsig import algorithms, cavage, digest, rfc9421
from protocol.httpsig.errors import HttpSignatureError, Reason
from protocol.httpsig.keys import PrivateKey
from protocol.httpsig.message import HttpMessage

CAVAGE_DEFAULT = ("(request-target)", "host", "date")
RFC9421_DEFAULT = ("@method", "@target-uri", "@authority")


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str] | None,
    body: bytes | None,
    *,
    key_id: str,
    private_key: PrivateKey,
    scheme: str = "cavage",
    algorithm: str | None = None,
    created: int | None = None,
    expires: int | None = None,
    components: Sequence[str] | None = None,
    label: str = "sig1",
    now: datetime | None = None,
) -> dict[str, str]:
    """Return ``headers`` plus Host, Date, a body digest and the signature fields.

    ``url`` must be absolute. ``body`` of ``None`` means no body: no digest is
    added. ``scheme`` is ``"cavage"`` or ``"rfc9421"``. ``algorithm`` defaults
    to ``rsa-sha256`` (RSA) or ``hs2019`` (Ed25519) for cavage, and to the
    key's natural RFC 9421 algorithm otherwise. Fields already in ``headers``
    (any letter case) are kept; Signature fields are replaced.
    """
    moment = now or datetime.now(UTC)
    out = {
        name: value
        for name, value in (headers or {}).items()
        if name.lower() not in ("signature", "signature-input")
    }
    present = {name.lower() for name in out}
    message = HttpMessage.for_request(method, url, out)
    if message.scheme is None or message.authority is None:
        raise HttpSignatureError(Reason.INVALID_COMPONENT, f"cannot sign relative URL {url!r}")
    if "host" not in present:
        out["Host"] = message.authority
    if "date" not in present:
        out["Date"] = format_datetime(moment.astimezone(UTC), usegmt=True)
    if scheme == "cavage":
        if body is not None and "digest" not in present:
            out["Digest"] = digest.make_digest_header(body)
        covered = list(components or CAVAGE_DEFAULT)
        if components is None and body is not None:
            covered.append("digest")
        if created is None and cavage.CREATED in covered:
            created = int(moment.timestamp())
        out["Signature"] = cavage.sign(
            HttpMessage.for_request(method, url, out),
            key_id=key_id,
            private_key=private_key,
            headers=covered,
            algorithm=algorithm or _cavage_default_algorithm(private_key),
            created=created,
            expires=expires,
        )
        return out
    if scheme != "rfc9421":
        raise ValueError(f"unknown signature scheme {scheme!r}")
    if body is not None and "content-digest" not in present:
        out["Content-Digest"] = digest.make_content_digest_header(body)
    covered = list(components or RFC9421_DEFAULT)
    if components is None and body is not None:
        covered.append("content-digest")
    chosen = algorithm or algorithms.default_algorithm_for_key(private_key)
    params: dict[str, int | str] = {
        "created": int(moment.timestamp()) if created is None else created
    }
    if expires is not None:
        params["expires"] = expires
    params["keyid"] = key_id
    params["alg"] = chosen
    out["Signature-Input"], out["Signature"] = rfc9421.sign_message(
        HttpMessage.for_request(method, url, out),
        label=label,
        components=covered,
        params=params,
        private_key=private_key,
        algorithm=chosen,
    )
    return out


def _cavage_default_algorithm(private_key: PrivateKey) -> str:
    # Plain rsa-sha256 is what every fediverse server accepts from an RSA key.
    if algorithms.default_algorithm_for_key(private_key) == algorithms.ED25519:
        return cavage.HS2019
    return cavage.RSA_SHA256
