"""The parts of an HTTP message that signatures cover, free of any HTTP library.

Callers hand in headers as a plain ``dict``, a multidict (``CIMultiDict`` and
friends yield one pair per field line from ``items()``), or a sequence of
``(name, value)`` pairs; :class:`Fields` turns any of them into one
case-insensitive, order-preserving, multi-valued view.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import SplitResult, urlsplit


class _HasItems(Protocol):
    def items(self) -> Iterable[tuple[str, str]]: ...


HeaderInput = Mapping[str, str] | _HasItems | Iterable[tuple[str, str]]
"""Anything with ``items()`` yielding name/value pairs (one per field line), or such pairs."""

_DEFAULT_PORTS = {"http": 80, "https": 443}
# obs-fold (RFC 9110 §5.2): a line break followed by whitespace continues the value.
_OBS_FOLD = re.compile(r"\r?\n[ \t]+")


_T = TypeVar("_T")


class _computed_once(Generic[_T]):
    """``functools.cached_property`` without its lock.

    Python 3.11's takes a lock on each instance's first access, which costs
    several times the (itself cached) ``urlsplit`` it guards; every verified
    request pays it once. Two threads racing here merely compute the same
    value twice.
    """

    def __init__(self, compute: Callable[[Any], _T]) -> None:
        self._compute = compute
        self._name = compute.__name__

    def __get__(self, instance: object, owner: type | None = None) -> _T:
        if instance is None:
            return self  # type: ignore[return-value]  # looked up on the class itself
        value = self._compute(instance)
        instance.__dict__[self._name] = value  # found before this descriptor from now on
        return value


class Fields:
    """Case-insensitive, multi-valued header fields, in the order they were given."""

    __slots__ = ("_lines",)

    def __init__(self, headers: HeaderInput | None = None) -> None:
        self._lines: dict[str, list[str]] = {}
        if headers is None:
            return
        pairs: Iterable[tuple[str, str]] = (
            headers.items() if hasattr(headers, "items") else headers  # type: ignore[union-attr]
        )
        for name, value in pairs:
            self._lines.setdefault(name.lower(), []).append(str(value))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._lines

    def __iter__(self) -> Iterator[str]:
        return iter(self._lines)

    def lines(self, name: str) -> tuple[str, ...]:
        """Every field line value for ``name``, as received."""
        return tuple(self._lines.get(name.lower(), ()))

    def combined(self, name: str) -> str | None:
        """The canonical value both signature schemes use, or ``None`` when absent.

        Each line is trimmed and unfolded, then lines are joined with ``", "``
        in message order (RFC 9421 §2.1, cavage-12 §2.3).
        """
        values = self._lines.get(name.lower())
        if values is None:
            return None
        if len(values) == 1 and "\n" not in values[0]:  # the usual case, without the regex
            return values[0].strip(" \t")
        return ", ".join(_OBS_FOLD.sub(" ", value).strip(" \t") for value in values)

    def first(self, name: str) -> str | None:
        """The first line value for ``name``, untouched, or ``None``."""
        values = self._lines.get(name.lower())
        return values[0] if values else None


@dataclass(frozen=True)
class HttpMessage:
    """A request (``method`` and ``url`` set) or a response (``status`` set).

    ``url`` may be absolute or origin-form (``/path?query``); in origin form the
    authority comes from the ``Host`` field and the scheme is unknown.
    ``request`` is the request a response answers, for the ``;req`` parameter.
    """

    fields: Fields
    method: str | None = None
    url: str | None = None
    status: int | None = None
    request: HttpMessage | None = None

    @classmethod
    def for_request(cls, method: str, url: str, headers: HeaderInput | None) -> HttpMessage:
        """Describe a request."""
        return cls(fields=Fields(headers), method=method, url=url)

    @classmethod
    def for_response(
        cls, status: int, headers: HeaderInput | None, request: HttpMessage | None = None
    ) -> HttpMessage:
        """Describe a response, optionally tied to the request it answers."""
        return cls(fields=Fields(headers), status=status, request=request)

    @_computed_once
    def _split(self) -> SplitResult:
        return urlsplit(self.url or "")

    @property
    def scheme(self) -> str | None:
        """Lower-case URI scheme, or ``None`` for an origin-form URL."""
        return self._split.scheme.lower() or None

    @property
    def authority(self) -> str | None:
        """``host[:port]`` in lower case without the scheme's default port."""
        split = self._split
        if not split.netloc:
            host = self.fields.combined("host")
            return host.lower() if host else None
        host = (split.hostname or "").lower()
        if ":" in host:  # IPv6 literal keeps its brackets
            host = f"[{host}]"
        port = split.port
        if port is not None and port != _DEFAULT_PORTS.get(self.scheme or ""):
            return f"{host}:{port}"
        return host

    @property
    def path(self) -> str:
        """The absolute path; an empty path is ``/`` (RFC 9421 §2.2.6)."""
        return self._split.path or "/"

    @property
    def query(self) -> str | None:
        """The raw query without its ``?``, or ``None`` when there is none."""
        return self._split.query or None

    @property
    def request_target(self) -> str:
        """Origin-form request target: path plus ``?query`` when present."""
        query = self.query
        return self.path if query is None else f"{self.path}?{query}"

    @property
    def target_uri(self) -> str | None:
        """The absolute target URI, or ``None`` when the scheme is unknown."""
        if self.scheme is None or self.authority is None:
            return None
        return f"{self.scheme}://{self.authority}{self.request_target}"
