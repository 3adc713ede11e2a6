"""Kula's wire protocol as a pure Python library: build, sign, verify and check documents.

Nothing here does I/O: no sockets, no database, no files outside the package.
Whatever needs the network (an actor document, a public key) comes in as a
parameter, e.g. the async key resolver of :func:`verify_request`. The protocol
itself is written down in ``SPEC.md`` next to this file.

The stable public API is the set of names below (``__all__``); everything else
is reachable through its module but may change between releases.

Canonical JSON and parsing
    :func:`canonicalize` (RFC 8785), :func:`parse_json` (strict I-JSON with limits),
    :func:`normalize` (any server's JSON-LD into Kula's shape, offline).
Object proofs (FEP-8b32, ``eddsa-jcs-2022``)
    :func:`sign_object`, :func:`verify_object`, :func:`verify_proof_set`,
    :func:`check_key_ownership`, :func:`verify_authored_object`,
    :class:`ProofRejected` with its :class:`ProofReason`.
Keys (FEP-521a Multikey, PEM)
    :func:`multikey_encode`, :func:`multikey_decode`,
    :func:`private_key_multibase_encode`, :func:`private_key_multibase_decode`,
    :func:`load_private_key_pem`, :func:`load_public_key_pem`.
HTTP signatures (draft-cavage-12 and RFC 9421)
    :func:`sign_request`, :func:`verify_request`, :class:`VerifiedSignature`,
    :class:`VerificationKey`.
Documents
    :mod:`builders` (one builder per object and activity), :func:`validate`
    (JSON Schema), :func:`currency_iri`, :func:`currency_code`,
    :func:`verify_vouch` (check a vouch and read it as a trust edge).
Vocabulary and exchange lifecycle
    :class:`Purpose`, :class:`ExchangeMode`, :class:`VfAction`, :class:`ListingStatus`,
    :class:`LocationPrecision`, :class:`ActivityType`, :class:`ExchangeState`,
    :class:`Role`, :func:`next_state`, :func:`allowed_activities`.
Pooled pledges
    :mod:`pools` (read a pool, check a pledge, verify a signed pool outcome).
Errors (all under :class:`ProtocolError`, a ``ValueError``)
    :class:`SignatureError`, :class:`DigestError`, :class:`ProofError`,
    :class:`SchemaError`, :class:`CanonicalizationError`, :class:`LimitError`,
    :class:`KeyFormatError`, :class:`JsonLdError`, :class:`ExchangeStateError`.

Importing ``protocol`` is cheap: the HTTP signature code, the JSON Schema
validator, pyld and the builders load on first use of a name that needs them.
Note that ``protocol.normalize`` at the top level is the *function*; the
module's helpers are imported with ``from protocol.normalize import as_list``.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

from protocol.canonical import canonicalize
from protocol.currency import currency_code, currency_iri
from protocol.errors import (
    CanonicalizationError,
    DigestError,
    ExchangeStateError,
    JsonLdError,
    KeyFormatError,
    LimitError,
    ProofError,
    ProtocolError,
    SchemaError,
    SignatureError,
)
from protocol.exchange_states import ExchangeState, Role, allowed_activities, next_state
from protocol.jsonparse import parse_json
from protocol.key_ownership import check_key_ownership, verify_authored_object
from protocol.multikey import (
    multikey_decode,
    multikey_encode,
    private_key_multibase_decode,
    private_key_multibase_encode,
)
from protocol.proofs import ProofReason, ProofRejected, sign_object, verify_object, verify_proof_set
from protocol.vocab import (
    ActivityType,
    ExchangeMode,
    ListingStatus,
    LocationPrecision,
    Purpose,
    VfAction,
)

if TYPE_CHECKING:
    from protocol import builders, pools
    from protocol.httpsig import (
        VerificationKey,
        VerifiedSignature,
        load_private_key_pem,
        load_public_key_pem,
        sign_request,
        verify_request,
    )
    from protocol.normalize import normalize
    from protocol.validation import validate
    from protocol.vouches import verify_vouch

__all__ = [
    "ActivityType",
    "CanonicalizationError",
    "DigestError",
    "ExchangeMode",
    "ExchangeState",
    "ExchangeStateError",
    "JsonLdError",
    "KeyFormatError",
    "LimitError",
    "ListingStatus",
    "LocationPrecision",
    "ProofError",
    "ProofReason",
    "ProofRejected",
    "ProtocolError",
    "Purpose",
    "Role",
    "SchemaError",
    "SignatureError",
    "VerificationKey",
    "VerifiedSignature",
    "VfAction",
    "allowed_activities",
    "builders",
    "canonicalize",
    "check_key_ownership",
    "currency_code",
    "currency_iri",
    "load_private_key_pem",
    "load_public_key_pem",
    "multikey_decode",
    "multikey_encode",
    "next_state",
    "normalize",
    "parse_json",
    "pools",
    "private_key_multibase_decode",
    "private_key_multibase_encode",
    "sign_object",
    "sign_request",
    "validate",
    "verify_authored_object",
    "verify_object",
    "verify_proof_set",
    "verify_request",
    "verify_vouch",
]

#: Public names loaded on first use, each from the module that defines it
#: (``None``: the name is the submodule itself).
_LAZY: dict[str, tuple[str, str | None]] = {
    "builders": ("protocol.builders", None),
    "pools": ("protocol.pools", None),
    "sign_request": ("protocol.httpsig", "sign_request"),
    "verify_request": ("protocol.httpsig", "verify_request"),
    "VerifiedSignature": ("protocol.httpsig", "VerifiedSignature"),
    "VerificationKey": ("protocol.httpsig", "VerificationKey"),
    "load_private_key_pem": ("protocol.httpsig", "load_private_key_pem"),
    "load_public_key_pem": ("protocol.httpsig", "load_public_key_pem"),
    "validate": ("protocol.validation", "validate"),
    "normalize": ("protocol.normalize", "normalize"),
    "verify_vouch": ("protocol.vouches", "verify_vouch"),
}


def __getattr__(name: str) -> Any:
    """Load a public name the first time it is used (PEP 562)."""
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    # Straight into the namespace: the next lookup skips this function.
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the lazy public names too, so completion and ``dir()`` show the whole API."""
    return sorted(set(globals()) | set(__all__))


class _PublicApiModule(ModuleType):
    """This package, guarding the function ``normalize`` from its namesake submodule.

    Importing a submodule sets it as an attribute of its package, so the first
    ``from protocol.normalize import ...`` anywhere would replace the public
    function ``protocol.normalize`` with the module. The module object stays
    available in ``sys.modules`` either way.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "normalize" and isinstance(value, ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _PublicApiModule
