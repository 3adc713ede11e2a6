"""RFC 9421 HTTP Message Signatures: signature base, Signature-Input and Signature fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import http_sfv

from protocol.httpsig import algorithms
from protocol.httpsig.components import (
    SIGNATURE_PARAMS,
    component_label,
    component_value,
    parse_component,
)
from protocol.httpsig.errors import HttpSignatureError, Reason
from protocol.httpsig.keys import PrivateKey
from protocol.httpsig.message import Fields, HttpMessage

ParamValue = int | str
_INTEGER_PARAMS = frozenset({"created", "expires"})
_STRING_PARAMS = frozenset({"keyid", "alg", "nonce", "tag"})


@dataclass(frozen=True)
class SignatureInput:
    """One labelled signature from a message: what it covers and its bytes."""

    label: str
    components: tuple[http_sfv.Item, ...]
    params: Mapping[str, ParamValue]
    signature: bytes

    @property
    def covered(self) -> tuple[str, ...]:
        """Covered component identifiers in the unquoted form :func:`parse_component` reads."""
        return tuple(component_label(item) for item in self.components)


def signature_params(
    components: Sequence[http_sfv.Item], params: Mapping[str, ParamValue]
) -> http_sfv.InnerList:
    """Build the ``@signature-params`` inner list; parameter order is kept as given."""
    inner = http_sfv.InnerList(list(components))
    for name, value in params.items():
        _check_param(name, value)
        inner.params[name] = value
    return inner


def _check_param(name: str, value: object) -> None:
    if name in _INTEGER_PARAMS:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif name in _STRING_PARAMS:
        ok = isinstance(value, str)
    else:
        ok = True  # RFC 9421 §2.3 lets unknown parameters through; they are signed all the same
    if not ok:
        raise HttpSignatureError(
            Reason.MALFORMED_HEADER, f"signature parameter {name} has bad type"
        )


def build_signature_base(
    message: HttpMessage,
    components: Sequence[http_sfv.Item | str],
    params: Mapping[str, ParamValue] | http_sfv.InnerList,
) -> str:
    """Build the RFC 9421 §2.5 signature base for ``components`` of ``message``.

    ``params`` is either the signature parameters (``created``, ``keyid`` ...)
    or an already parsed ``@signature-params`` inner list, whose serialisation
    is then used unchanged.
    """
    items = [parse_component(c) if isinstance(c, str) else c for c in components]
    inner = params if isinstance(params, http_sfv.InnerList) else signature_params(items, params)
    lines = []
    seen: set[str] = set()
    for item in items:
        identifier = str(item)
        if item.value == SIGNATURE_PARAMS or identifier in seen:
            raise HttpSignatureError(Reason.INVALID_COMPONENT, f"{identifier} cannot be covered")
        seen.add(identifier)
        value = component_value(message, item)
        if "\n" in value or "\r" in value:
            raise HttpSignatureError(Reason.INVALID_COMPONENT, f"{identifier} contains a newline")
        lines.append(f"{identifier}: {value}")
    lines.append(f'"{SIGNATURE_PARAMS}": {inner}')
    return "\n".join(lines)


def sign_message(
    message: HttpMessage,
    *,
    label: str,
    components: Sequence[http_sfv.Item | str],
    params: Mapping[str, ParamValue],
    private_key: PrivateKey,
    algorithm: str,
) -> tuple[str, str]:
    """Sign ``message``; return the ``(Signature-Input, Signature)`` values for ``label``."""
    items = [parse_component(c) if isinstance(c, str) else c for c in components]
    inner = signature_params(items, params)
    base = build_signature_base(message, items, inner)
    signature = algorithms.sign(algorithm, private_key, _encode(base))
    signature_input = http_sfv.Dictionary()
    signature_input[label] = inner
    signature_field = http_sfv.Dictionary()
    signature_field[label] = signature
    return str(signature_input), str(signature_field)


def _encode(base: str) -> bytes:
    # surrogateescape gives back the exact bytes of fields that were decoded with it
    return base.encode("utf-8", "surrogateescape")


def signature_base_bytes(base: str) -> bytes:
    """The bytes that are signed for a signature base string."""
    return _encode(base)


def _parse_dictionary(fields: Fields, name: str) -> http_sfv.Dictionary:
    dictionary = http_sfv.Dictionary()
    value = fields.combined(name) or ""
    try:
        dictionary.parse(value.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise HttpSignatureError(Reason.MALFORMED_HEADER, f"{name} is not a dictionary") from exc
    return dictionary


def parse_signatures(fields: Fields) -> dict[str, SignatureInput]:
    """Parse every labelled signature from ``Signature-Input`` and ``Signature``."""
    if "signature-input" not in fields or "signature" not in fields:
        raise HttpSignatureError(
            Reason.MISSING_SIGNATURE, "RFC 9421 needs both Signature-Input and Signature"
        )
    inputs = _parse_dictionary(fields, "signature-input")
    signatures = _parse_dictionary(fields, "signature")
    parsed: dict[str, SignatureInput] = {}
    for label, inner in inputs.items():
        if not isinstance(inner, http_sfv.InnerList):
            raise HttpSignatureError(Reason.MALFORMED_HEADER, f"{label} is not an inner list")
        if label not in signatures:
            raise HttpSignatureError(Reason.MISSING_SIGNATURE, f"no Signature for {label}")
        signature = signatures[label]
        if not isinstance(signature, http_sfv.Item) or not isinstance(signature.value, bytes):
            raise HttpSignatureError(Reason.MALFORMED_HEADER, f"Signature {label} is not bytes")
        components = []
        for item in inner:
            if not isinstance(item.value, str):
                raise HttpSignatureError(Reason.MALFORMED_HEADER, f"{label} lists a non-string")
            components.append(item)
        for name, value in inner.params.items():
            _check_param(name, value)
        parsed[label] = SignatureInput(
            label=label,
            components=tuple(components),
            params=dict(inner.params),
            signature=signature.value,
        )
    if not parsed:
        raise HttpSignatureError(Reason.MISSING_SIGNATURE, "Signature-Input is empty")
    return parsed


def rebuild_base(message: HttpMessage, signature: SignatureInput) -> str:
    """The signature base a received signature claims to cover."""
    return build_signature_base(
        message, signature.components, signature_params(signature.components, signature.params)
    )
