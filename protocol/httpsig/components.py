"""RFC 9421 §2: component identifiers and the values they stand for.

A component identifier is an RFC 8941 string item with parameters, e.g.
``"@query-param";name="Pet"``. Callers may write one without the quotes
(``@query-param;name="Pet"``); :func:`parse_component` accepts both.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote

import http_sfv

from protocol.httpsig.errors import HttpSignatureError, Reason
from protocol.httpsig.message import HttpMessage

SIGNATURE_PARAMS = "@signature-params"

# Fields whose structured type is known, for the `sf` and `key` parameters (RFC 9421 §2.1.1).
_STRUCTURED_TYPES: dict[str, str] = {
    "accept-signature": "dictionary",
    "cache-status": "list",
    "content-digest": "dictionary",
    "example-dict": "dictionary",
    "priority": "dictionary",
    "proxy-status": "list",
    "repr-digest": "dictionary",
    "signature": "dictionary",
    "signature-input": "dictionary",
    "want-content-digest": "dictionary",
    "want-repr-digest": "dictionary",
}
_FIELD_PARAMS = frozenset({"sf", "key", "bs", "req"})
# application/x-www-form-urlencoded percent-encode set leaves only these unescaped (WHATWG URL).
_FORM_SAFE = "*-._"


def parse_component(text: str) -> http_sfv.Item:
    """Parse a component identifier, quoted or not, into a string item with parameters."""
    raw = text.strip()
    if not raw.startswith('"'):
        name, sep, params = raw.partition(";")
        raw = f'"{name}"{sep}{params}'
    item = http_sfv.Item()
    try:
        item.parse(raw.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise HttpSignatureError(Reason.INVALID_COMPONENT, f"bad identifier {text!r}") from exc
    return _checked(item)


def _checked(item: http_sfv.Item) -> http_sfv.Item:
    name = item.value
    if not isinstance(name, str) or not name or name != name.lower():
        raise HttpSignatureError(Reason.INVALID_COMPONENT, f"bad component name {name!r}")
    return item


def component_label(item: http_sfv.Item) -> str:
    """The identifier without quotes around the name: ``@query-param;name="Pet"``."""
    return f"{item.value}{item.params}"


def component_value(message: HttpMessage, item: http_sfv.Item) -> str:
    """Return the value a component identifier covers in ``message`` (RFC 9421 §2.1, §2.2)."""
    name = _checked(item).value
    params = item.params
    if params.get("req") is True:
        if message.request is None:
            raise HttpSignatureError(Reason.INVALID_COMPONENT, f"{name};req needs the request")
        message = message.request
    elif "req" in params:
        raise HttpSignatureError(Reason.INVALID_COMPONENT, "req must be a bare flag")
    if name.startswith("@"):
        return _derived_value(message, name, params)
    return _field_value(message, name, params)


def _derived_value(message: HttpMessage, name: str, params: dict[str, object]) -> str:
    if set(params) - ({"name"} if name == "@query-param" else set()) - {"req"}:
        raise HttpSignatureError(Reason.INVALID_COMPONENT, f"unexpected parameters on {name}")
    if name == "@status":
        if message.status is None:
            raise HttpSignatureError(Reason.INVALID_COMPONENT, "@status only exists on responses")
        return f"{message.status:03d}"
    if message.method is None:
        raise HttpSignatureError(Reason.INVALID_COMPONENT, f"{name} only exists on requests")
    value: str | None
    if name == "@method":
        value = message.method
    elif name == "@target-uri":
        value = message.target_uri
    elif name == "@authority":
        value = message.authority
    elif name == "@scheme":
        value = message.scheme
    elif name == "@request-target":
        value = message.request_target
    elif name == "@path":
        value = message.path
    elif name == "@query":
        value = f"?{message.query or ''}"
    elif name == "@query-param":
        value = _query_param(message, params.get("name"))
    else:
        raise HttpSignatureError(Reason.INVALID_COMPONENT, f"unsupported component {name}")
    if value is None:
        raise HttpSignatureError(Reason.INVALID_COMPONENT, f"{name} is unknown for this message")
    return value


def _query_param(message: HttpMessage, wanted: object) -> str:
    if not isinstance(wanted, str):
        raise HttpSignatureError(Reason.INVALID_COMPONENT, "@query-param needs a name parameter")
    pairs = parse_qsl(message.query or "", keep_blank_values=True)
    # The name parameter is itself encoded the same way as the values (RFC 9421 §2.2.8).
    values = [value for key, value in pairs if _form_encode(key) == wanted]
    if not values:
        raise HttpSignatureError(Reason.MISSING_HEADER, f"query parameter {wanted!r} is absent")
    if len(values) > 1:
        raise HttpSignatureError(Reason.INVALID_COMPONENT, f"query parameter {wanted!r} repeats")
    return _form_encode(values[0])


def _form_encode(text: str) -> str:
    return quote(text, safe=_FORM_SAFE).replace("~", "%7E")


def _field_value(message: HttpMessage, name: str, params: dict[str, object]) -> str:
    unknown = set(params) - _FIELD_PARAMS
    if unknown:
        raise HttpSignatureError(Reason.INVALID_COMPONENT, f"unsupported parameters {unknown}")
    if "bs" in params and ("sf" in params or "key" in params):
        raise HttpSignatureError(Reason.INVALID_COMPONENT, "bs cannot combine with sf or key")
    lines = message.fields.lines(name)
    if not lines:
        raise HttpSignatureError(Reason.MISSING_HEADER, f"covered field {name} is absent")
    if params.get("bs") is True:
        # Each line is trimmed and wrapped as its own byte sequence (RFC 9421 §2.1.3).
        try:
            values = [line.strip(" \t").encode("latin-1") for line in lines]
        except UnicodeEncodeError as exc:
            raise HttpSignatureError(
                Reason.INVALID_COMPONENT, f"{name} is not a Latin-1 byte sequence"
            ) from exc
        return ", ".join(str(http_sfv.Item(value)) for value in values)
    combined = message.fields.combined(name) or ""
    if "key" in params:
        return _dictionary_member(name, combined, params["key"])
    if params.get("sf") is True:
        return _reserialised(name, combined)
    return combined


def _parse_structured(name: str, value: str, kind: str) -> http_sfv.Dictionary | http_sfv.List:
    container = http_sfv.Dictionary() if kind == "dictionary" else http_sfv.List()
    try:
        container.parse(value.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise HttpSignatureError(
            Reason.INVALID_COMPONENT, f"{name} is not a structured {kind}"
        ) from exc
    return container


def _reserialised(name: str, value: str) -> str:
    kind = _STRUCTURED_TYPES.get(name)
    if kind is None:
        raise HttpSignatureError(Reason.INVALID_COMPONENT, f"structured type of {name} unknown")
    return str(_parse_structured(name, value, kind))


def _dictionary_member(name: str, value: str, key: object) -> str:
    if not isinstance(key, str):
        raise HttpSignatureError(Reason.INVALID_COMPONENT, "key must be a string")
    dictionary = _parse_structured(name, value, "dictionary")
    if key not in dictionary:
        raise HttpSignatureError(Reason.MISSING_HEADER, f"{name} has no member {key!r}")
    return str(dictionary[key])
