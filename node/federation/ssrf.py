"""Guard outbound requests against server-side request forgery.

Two checks work together. :func:`check_url` runs on every URL before it is
requested (the first one and every redirect target): it refuses schemes other
than http(s), credentials in the URL, malformed or internal host names, and
literal addresses that are not public, including the legacy numeric IPv4
spellings (``http://2130706433/``, ``http://0x7f.1/``, ``http://127.1/``) that
resolvers would quietly map onto loopback. :class:`SafeResolver` then checks
every address a host name resolves to. aiohttp connects only to the addresses
its resolver returns, so a DNS answer that changes between a check and the
connection (DNS rebinding) cannot slip past.

With ``allow_private`` (development and tests) loopback, private, link-local
and shared addresses are allowed; multicast, broadcast, reserved and
unspecified addresses never are, and neither are other schemes.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from node.errors import NodeError

__all__ = ["SafeResolver", "UnsafeAddressError", "check_address", "check_url"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Names that always mean this machine or a local network, whatever DNS says.
_INTERNAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
_INTERNAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".lan")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# A last label made of digits, or 0x and hex digits, makes a host an IPv4
# address for resolvers and browsers (WHATWG URL "ends in a number").
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
_NAT64_V6 = ipaddress.IPv6Network("64:ff9b::/96")


class UnsafeAddressError(NodeError):
    """An outbound URL or the address it resolves to is refused by the SSRF guard."""

    status = 422
    type_slug = "unsafe-address"
    title = "Address not allowed"


def check_url(url: str, *, allow_private: bool) -> str:
    """Return ``url`` normalised (lower-case scheme and host, IDNA host, no
    default port, no fragment, ``/`` for an empty path) if it is safe to fetch.

    Raises :class:`UnsafeAddressError` otherwise. Host names are only checked
    for shape here; the addresses they resolve to are checked by
    :class:`SafeResolver` at connection time.
    """
    if not isinstance(url, str) or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise UnsafeAddressError("the URL is empty or contains spaces or control characters")
    if "\\" in url:
        raise UnsafeAddressError("the URL contains a backslash")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise UnsafeAddressError(f"unreadable URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise UnsafeAddressError(f"only http and https URLs are fetched, not {scheme or 'none'!r}")
    if "@" in parts.netloc:
        raise UnsafeAddressError("URLs with credentials (user@host) are refused")
    try:
        port = parts.port
    except ValueError:
        raise UnsafeAddressError(f"invalid port in {parts.netloc!r}") from None
    if port == 0:
        raise UnsafeAddressError("port 0 is refused")
    host = _checked_host(parts.netloc, parts.hostname, allow_private=allow_private)
    authority = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{authority}{parts.path or '/'}{query}"


def _checked_host(netloc: str, hostname: str | None, *, allow_private: bool) -> str:
    """The host as it goes into a URL (IPv6 in brackets), or raise."""
    if not hostname:
        raise UnsafeAddressError("the URL has no host")
    if netloc.startswith("["):
        if "%" in hostname:
            raise UnsafeAddressError("IPv6 zone identifiers are refused")
        try:
            address = ipaddress.IPv6Address(hostname)
        except ValueError:
            raise UnsafeAddressError(f"invalid IPv6 address {hostname!r}") from None
        check_address(address, allow_private=allow_private)
        return f"[{address.compressed}]"
    name = _ascii_host(hostname)
    labels = name.split(".")
    if _NUMERIC_LABEL.match(labels[-1]):
        try:
            address4 = ipaddress.IPv4Address(name)
        except ValueError:
            raise UnsafeAddressError(
                f"{hostname!r} is not a canonical dotted-quad IPv4 address"
            ) from None
        check_address(address4, allow_private=allow_private)
        return str(address4)
    if not all(_LABEL.match(label) for label in labels) or len(name) > 253:
        raise UnsafeAddressError(f"invalid host name {hostname!r}")
    if not allow_private and (
        name in _INTERNAL_NAMES or name.endswith(_INTERNAL_SUFFIXES) or len(labels) < 2
    ):
        raise UnsafeAddressError(f"{hostname!r} names a local or internal host")
    return name


def _ascii_host(hostname: str) -> str:
    """Lower-case ASCII form of a host name, without the root's trailing dot."""
    name = hostname.lower()
    if name.endswith("."):
        name = name[:-1]
    if "%" in name:
        raise UnsafeAddressError(f"percent-encoded host {hostname!r} is refused")
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            raise UnsafeAddressError(f"invalid internationalised host {hostname!r}") from None
    if not name:
        raise UnsafeAddressError("the URL has an empty host")
    return name


def check_address(address: IPAddress, *, allow_private: bool) -> None:
    """Raise :class:`UnsafeAddressError` unless ``address`` may be connected to.

    Public means: a global IPv4 address that is not multicast, or a global
    unicast IPv6 address (2000::/3) whose embedded IPv4 address, where it has
    one (IPv4-mapped, NAT64, 6to4), is public too.
    """
    if address.is_multicast or address.is_unspecified:
        raise UnsafeAddressError(f"{address} is a multicast or unspecified address")
    if isinstance(address, ipaddress.IPv4Address):
        if address.is_reserved:  # 240.0.0.0/4, broadcast included
            raise UnsafeAddressError(f"{address} is a reserved address")
        if not allow_private and not address.is_global:
            raise UnsafeAddressError(f"{address} is not a public address")
        return
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        check_address(embedded, allow_private=allow_private)
        if address.ipv4_mapped is not None or address in _NAT64_V6:
            return
    if allow_private:
        return
    if address not in _GLOBAL_UNICAST_V6 or not address.is_global or address.teredo:
        raise UnsafeAddressError(f"{address} is not a public address")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64_V6:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    return None


class SafeResolver(AbstractResolver):
    """A resolver that refuses a host if any address it resolves to is unsafe.

    It wraps another resolver (aiohttp's default one unless given) and must be
    created inside a running event loop, as aiohttp's resolvers are.
    """

    def __init__(self, *, allow_private: bool, inner: AbstractResolver | None = None) -> None:
        self.allow_private = allow_private
        self._inner = inner if inner is not None else DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Resolve ``host`` with the wrapped resolver and check every answer."""
        results = await self._inner.resolve(host, port, family)
        if not results:
            raise UnsafeAddressError(f"{host!r} resolved to no address")
        for result in results:
            self.check_resolved(host, result["host"])
        return results

    def check_resolved(self, hostname: str, address_text: str) -> None:
        """Raise unless ``hostname`` may be reached at ``address_text``."""
        try:
            address = ipaddress.ip_address(address_text.partition("%")[0])
        except ValueError:
            raise UnsafeAddressError(
                f"{hostname!r} resolved to an unreadable address {address_text!r}"
            ) from None
        try:
            check_address(address, allow_private=self.allow_private)
        except UnsafeAddressError as exc:
            raise UnsafeAddressError(f"host {hostname!r} refused: {exc.detail}") from None

    async def close(self) -> None:
        """Release the wrapped resolver."""
        await self._inner.close()
