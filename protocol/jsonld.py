"""Offline JSON-LD processing: a pyld document loader that never touches the network.

Every pyld call in Kula goes through :func:`expand` or :func:`compact`, which
pass :func:`document_loader` explicitly, so no call depends on pyld's global
default loader (an HTTP fetcher whenever pyld can find a client). :func:`install_document_loader`
also replaces that global default, as a second line of defence for any code
that calls pyld directly.

Caching: pyld keeps resolved contexts in a process-wide LRU cache, but it only
shares a remote context between calls when the loader tags the returned
document ``"static"``; without the tag every call re-resolves and re-processes
each context. :func:`document_loader` sets the tag, so after the first call the
bundled contexts are neither loaded nor re-parsed, and their processed form is
reused as well. That cache is process-wide and keyed by URL alone, which is
safe only because nothing in Kula hands pyld any other document for these URLs.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from protocol.contexts import canonical_context_iri, load_context
from protocol.errors import JsonLdError, LimitError


def _import_pyld_without_http_clients() -> ModuleType:
    """Import ``pyld.jsonld`` without letting it load an HTTP client.

    On first import pyld builds a default document loader from ``requests``
    or, failing that, ``aiohttp``. ``protocol/`` must never load aiohttp, and
    Kula never uses that loader, so both are made to look absent (unless
    already loaded) while pyld imports; its default then becomes its dummy
    loader, which refuses every URL.
    """
    hidden = [name for name in ("requests", "aiohttp") if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # import now raises ImportError
    try:
        return importlib.import_module("pyld.jsonld")
    finally:
        for name in hidden:
            if sys.modules.get(name) is None:
                del sys.modules[name]


_pyld = _import_pyld_without_http_clients()

#: JSON-LD's own media type, reported for every bundled context.
_CONTEXT_MEDIA_TYPE = "application/ld+json"

JsonObject = dict[str, Any]
ContextValue = str | Mapping[str, Any] | Sequence[str | Mapping[str, Any]]


def document_loader(url: str, options: Mapping[str, Any] | None = None) -> JsonObject:
    """Serve a bundled context document to pyld; refuse everything else.

    Follows pyld's loader protocol: returns a remote-document dict with
    ``document``, ``documentUrl``, ``contextUrl`` and ``contentType``. ``options``
    (pyld passes request headers there) is ignored: nothing is requested.

    Raises :class:`~protocol.errors.JsonLdError` for a URL that is not http(s)
    or not bundled. Never opens a socket or a file outside the package.
    """
    del options  # part of pyld's loader signature; nothing here needs it
    if not isinstance(url, str):
        raise JsonLdError(f"context reference must be a URL string, not {type(url).__name__}")
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise JsonLdError(f"refusing to load JSON-LD context {url!r}: only http(s) IRIs are known")
    canonical = canonical_context_iri(url)
    if canonical is None:
        raise JsonLdError(
            f"JSON-LD context {url!r} is not bundled with Kula; remote contexts are never fetched"
        )
    return {
        "contentType": _CONTEXT_MEDIA_TYPE,
        "contextUrl": None,
        "documentUrl": canonical,
        "document": load_context(canonical),
        # Lets pyld keep the resolved context in its shared cache (see module doc).
        "tag": "static",
    }


def loader_options(**extra: Any) -> JsonObject:
    """Return pyld options that use the offline loader, plus any ``extra`` options.

    Preferred over the global default: ``pyld.jsonld.expand(doc, loader_options())``.
    """
    return {**extra, "documentLoader": document_loader}


def install_document_loader() -> None:
    """Make :func:`document_loader` pyld's process-wide default loader.

    The node calls this once at start-up so that a pyld call that forgets to
    pass options still cannot reach the network.
    """
    _pyld.set_document_loader(document_loader)


def expand(document: Mapping[str, Any] | Sequence[Any]) -> list[JsonObject]:
    """Expand ``document`` (JSON-LD 1.1 Processing Algorithms §5) offline.

    The input is not modified. pyld failures, including a context that is not
    bundled, are raised as :class:`~protocol.errors.JsonLdError`.
    """
    return _call_pyld(_pyld.expand, document)


def compact(document: Mapping[str, Any] | Sequence[Any], context: ContextValue) -> JsonObject:
    """Compact ``document`` against ``context`` (JSON-LD 1.1 API §4.2) offline.

    ``context`` is what goes in the output's ``@context`` (an IRI, an inline
    object or a list of them). The input is not modified. pyld failures are
    raised as :class:`~protocol.errors.JsonLdError`.
    """
    return _call_pyld(_pyld.compact, document, {"@context": context})


def _call_pyld(function: Any, *arguments: Any) -> Any:
    try:
        return function(*arguments, loader_options())
    except _pyld.JsonLdError as error:
        raise _translate(error) from error
    except RecursionError:
        # pyld recurses once per nesting level; hostile depth must not crash a worker.
        raise LimitError("JSON-LD document is nested too deeply to process") from None


def _translate(error: _pyld.JsonLdError) -> JsonLdError:
    """Turn a pyld error into ours, keeping our loader's own reason when it is the cause."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, JsonLdError):
            return JsonLdError(cause.detail)
        cause = cause.__cause__
    code = getattr(error, "code", None) or getattr(error, "type", "jsonld error")
    message = error.args[0] if error.args else "JSON-LD processing failed"
    return JsonLdError(f"{code}: {message}")
