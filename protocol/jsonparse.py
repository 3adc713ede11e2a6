"""Strict I-JSON (RFC 7493) parsing of untrusted documents.

Everything a peer sends to the inbox or the API goes through :func:`parse_json`
before any other code looks at it. Besides JSON syntax (RFC 8259) it refuses
what I-JSON forbids and what would make a signature ambiguous: duplicate member
names, ``NaN``/``Infinity`` literals, lone surrogates, invalid UTF-8, integers
that an IEEE 754 double cannot hold exactly and numbers that overflow. It also
caps size, nesting depth and the total count of members and array items, so a
small hostile body cannot cost a lot of memory or time downstream.

The stdlib C parser does the work; the checks ride on its hooks, and the
post-parse walk (depth, counts, surrogates) only runs when a cheap scan of the
raw text says a limit could be reached. Every inbound activity passes here, so
the parser's C scanner is called directly rather than through
``JSONDecoder.decode`` (two regex matches and two Python calls per document),
and the byte input is decoded without a copy.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from protocol.errors import CanonicalizationError, LimitError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_MEMBERS",
    "MAX_SAFE_INTEGER",
    "parse_json",
]

#: Largest accepted document, in UTF-8 bytes.
DEFAULT_MAX_BYTES = 256 * 1024
#: Deepest accepted nesting of objects and arrays (a bare scalar is depth 0).
DEFAULT_MAX_DEPTH = 32
#: Most object members plus array items accepted in one document, all levels counted.
DEFAULT_MAX_MEMBERS = 10_000
#: RFC 7493 §2.2: integers beyond ±(2**53 - 1) lose precision in other parsers.
MAX_SAFE_INTEGER = 2**53 - 1

# "-9007199254740991" has 16 digits; anything longer is out of range, and the
# length test spares int() from parsing thousands of hostile digits.
_MAX_SAFE_DIGITS = len(str(MAX_SAFE_INTEGER))
# A \uD800-\uDFFF escape is the only way a lone surrogate can enter through
# valid UTF-8. The test may also match an escaped backslash followed by "ud8..";
# that only costs a needless walk, never a wrong answer.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_CONTAINERS = (dict, list)


def parse_json(
    data: bytes | bytearray | memoryview | str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_members: int = DEFAULT_MAX_MEMBERS,
) -> Any:
    """Parse one untrusted JSON text under I-JSON rules and resource limits.

    ``data`` is the raw body (UTF-8 bytes, no byte order mark) or an already
    decoded string. Returns plain ``dict``/``list``/``str``/``int``/``float``/
    ``bool``/``None`` data.

    Raises :class:`LimitError` when the text is longer than ``max_bytes``, nests
    deeper than ``max_depth`` or holds more than ``max_members`` object members
    and array items in total; raises :class:`CanonicalizationError` for anything
    that is not I-JSON, with the reason (and position where known) in ``detail``.
    """
    text = _decode(data, max_bytes)
    try:
        value = _scan(text)
    except json.JSONDecodeError as exc:
        raise CanonicalizationError(
            f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    # The C scanner guards its own recursion; hitting that guard means the
    # document is far beyond any depth limit.
    except RecursionError as exc:
        raise LimitError(f"JSON nesting deeper than {max_depth} levels") from exc

    # "in" finds a backslash with memchr, far faster than the regex scan, and
    # most documents hold no escape at all.
    if "\\" in text and _SURROGATE_ESCAPE.search(text):
        _reject_lone_surrogates(value)
    if _may_exceed_shape(text, max_depth, max_members):
        _check_shape(value, max_depth, max_members)
    return value


def _may_exceed_shape(text: str, max_depth: int, max_members: int) -> bool:
    """Cheap upper bounds on depth and member count, read off the raw text.

    Every container opens with a bracket and every member or item after the
    first is preceded by a comma; brackets and commas inside strings only make
    the bounds looser. An item takes at least two characters with its comma,
    so short texts cannot reach the member limit at all.
    """
    openings = text.count("{") + text.count("[")
    if openings > max_depth:
        return True
    return len(text) > 2 * max_members and openings + text.count(",") > max_members


def _decode(data: bytes | bytearray | memoryview | str, max_bytes: int) -> str:
    if isinstance(data, str):
        try:
            size = len(data.encode("utf-8"))
        except UnicodeEncodeError as exc:
            raise CanonicalizationError(
                f"invalid JSON: lone surrogate at character {exc.start}"
            ) from exc
        if size > max_bytes:
            raise LimitError(f"JSON document of {size} bytes exceeds the {max_bytes}-byte limit")
        text = data
    else:
        raw = data if type(data) is bytes else bytes(data)
        if len(raw) > max_bytes:
            raise LimitError(
                f"JSON document of {len(raw)} bytes exceeds the {max_bytes}-byte limit"
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CanonicalizationError(
                f"invalid JSON: not UTF-8 at byte {exc.start} ({exc.reason})"
            ) from exc
    # RFC 8259 §8.1: a sender must not add a byte order mark. Refusing it keeps
    # the bytes a peer signed identical to the bytes we parse.
    if text.startswith("\ufeff"):
        raise CanonicalizationError("invalid JSON: starts with a byte order mark")
    return text


def _object_from_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise CanonicalizationError(f"invalid I-JSON: duplicate member name {name!r}")
            seen.add(name)
    return obj


def _reject_constant(literal: str) -> Any:
    raise CanonicalizationError(f"invalid JSON: {literal} is not a JSON number")


def _parse_int(literal: str) -> int:
    digits = len(literal) - literal.startswith("-")
    if digits > _MAX_SAFE_DIGITS or abs(number := int(literal)) > MAX_SAFE_INTEGER:
        shown = literal if len(literal) <= 40 else f"{literal[:40]}..."
        raise CanonicalizationError(f"invalid I-JSON: integer {shown} is outside ±(2**53 - 1)")
    return number


def _parse_float(literal: str) -> float:
    number = float(literal)
    if math.isinf(number):
        shown = literal if len(literal) <= 40 else f"{literal[:40]}..."
        raise CanonicalizationError(f"invalid I-JSON: number {shown} overflows an IEEE 754 double")
    return number


_SCAN_ONCE = json.JSONDecoder(
    object_pairs_hook=_object_from_pairs,
    parse_constant=_reject_constant,
    parse_int=_parse_int,
    parse_float=_parse_float,
).scan_once
# What JSONDecoder.decode skips around the value (RFC 8259 §2 whitespace).
_WHITESPACE = " \t\n\r"
_skip_whitespace = re.compile(r"[ \t\n\r]*").match


def _scan(text: str) -> Any:
    """``JSONDecoder.decode`` with the same errors, minus its overhead for a
    document without surrounding whitespace, as clients send them."""
    start = 0 if text[:1] not in _WHITESPACE else _skip_whitespace(text).end()
    try:
        value, end = _SCAN_ONCE(text, start)
    except StopIteration as exc:
        raise json.JSONDecodeError("Expecting value", text, exc.value) from None
    if end != len(text):
        end = _skip_whitespace(text, end).end()
        if end != len(text):
            raise json.JSONDecodeError("Extra data", text, end)
    return value


def _check_shape(value: Any, max_depth: int, max_members: int) -> None:
    """Walk containers level by level, enforcing depth and the total member count."""
    members = 0
    level: list[Any] = [value] if isinstance(value, _CONTAINERS) else []
    depth = 0
    while level:
        depth += 1
        if depth > max_depth:
            raise LimitError(f"JSON nesting deeper than {max_depth} levels")
        children: list[Any] = []
        for node in level:
            items = node.values() if type(node) is dict else node
            members += len(items)
            children += [child for child in items if isinstance(child, _CONTAINERS)]
        if members > max_members:
            raise LimitError(f"JSON document holds more than {max_members} members and items")
        level = children


def _reject_lone_surrogates(value: Any) -> None:
    stack: list[Any] = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for name, child in node.items():
                _check_string(name)
                stack.append(child)
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            _check_string(node)


def _check_string(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        code_point = ord(text[exc.start])
        raise CanonicalizationError(
            f"invalid I-JSON: lone surrogate U+{code_point:04X} in a string"
        ) from exc
