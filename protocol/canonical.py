"""RFC 8785 JSON Canonicalization Scheme (JCS).

Signatures over JSON (FEP-8b32 object proofs, reputation credentials) are
computed over canonical bytes, so two nodes must agree on every byte. The work
is done by the maintained ``rfc8785`` package; this module only guarantees that
every failure surfaces as a :class:`~protocol.errors.CanonicalizationError`.
"""

from __future__ import annotations

from typing import Any

import rfc8785

from protocol.errors import CanonicalizationError

__all__ = ["canonicalize"]


def canonicalize(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of ``value``.

    ``value`` is plain JSON data: ``dict`` with ``str`` keys, ``list``/``tuple``,
    ``str``, ``int``, ``float``, ``bool`` or ``None``.

    Raises :class:`CanonicalizationError` for NaN and infinities, integers
    outside the I-JSON range ±(2**53 - 1), non-string keys, strings holding lone
    surrogates, unsupported types, and structures too deep (or cyclic) to walk.
    """
    try:
        return rfc8785.dumps(value)
    except rfc8785.IntegerDomainError as exc:
        raise CanonicalizationError(
            f"integer outside the I-JSON range ±(2**53 - 1): {exc}"
        ) from exc
    except rfc8785.FloatDomainError as exc:
        raise CanonicalizationError(f"number not representable in JSON: {exc}") from exc
    except rfc8785.CanonicalizationError as exc:
        raise CanonicalizationError(f"cannot canonicalize: {exc}") from exc
    # rfc8785 sorts keys by their UTF-16 encoding, which fails with a bare
    # UnicodeEncodeError (not its own error) when a key holds a lone surrogate.
    except UnicodeError as exc:
        raise CanonicalizationError(
            "cannot canonicalize: a member name is not valid Unicode (lone surrogate)"
        ) from exc
    # The serializer recurses once per nesting level; a cyclic or absurdly deep
    # structure must be a protocol error, not a crash.
    except RecursionError as exc:
        raise CanonicalizationError("cannot canonicalize: structure nested too deeply") from exc
