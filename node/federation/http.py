"""The node's one outbound HTTP client, shared by every fetch and delivery.

Every connection goes through :class:`~node.federation.ssrf.SafeResolver`;
cookies are never kept and proxy settings from the environment are ignored,
so what a peer sends cannot change where the next request goes.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from types import TracebackType

import aiohttp

from node.federation.ssrf import SafeResolver
from node.settings import Settings

__all__ = ["FederationHttp", "user_agent"]

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_TOTAL_TIMEOUT = 15.0
DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024
DEFAULT_CONNECTION_LIMIT = 100
DEFAULT_CONNECTIONS_PER_HOST = 8
# Answers come from SafeResolver already checked, so caching them is safe; a
# short lifetime keeps a host's address changes visible soon.
_DNS_CACHE_SECONDS = 10


def user_agent(settings: Settings) -> str:
    """``Kula/<version> (+<node url>)``: peers can tell who is calling and where to look."""
    try:
        release = version("kula")
    except PackageNotFoundError:  # a source tree that was never installed
        release = "0.0.0"
    return f"Kula/{release} (+{settings.url.rstrip('/')})"


class FederationHttp:
    """Owns the ``aiohttp.ClientSession`` used for federation.

    Open it with :meth:`start` (or ``async with``) inside the event loop and
    :meth:`close` it on shutdown. ``resolver`` replaces the default
    :class:`SafeResolver` (tests hand in one wrapping a fake DNS).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        total_timeout: float = DEFAULT_TOTAL_TIMEOUT,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        connection_limit: int = DEFAULT_CONNECTION_LIMIT,
        connections_per_host: int = DEFAULT_CONNECTIONS_PER_HOST,
        resolver: SafeResolver | None = None,
    ) -> None:
        if connect_timeout <= 0 or total_timeout <= 0 or max_response_bytes <= 0:
            raise ValueError("timeouts and the response size cap must be positive")
        self.settings = settings
        self.allow_private = settings.allow_private_network
        self.connect_timeout = connect_timeout
        self.total_timeout = total_timeout
        self.max_response_bytes = max_response_bytes
        self.user_agent = user_agent(settings)
        self._connection_limit = connection_limit
        self._connections_per_host = connections_per_host
        self._resolver = resolver
        self._session: aiohttp.ClientSession | None = None
        self._owned_resolver: SafeResolver | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The open session; RuntimeError before :meth:`start` or after :meth:`close`."""
        if self._session is None or self._session.closed:
            raise RuntimeError("FederationHttp is not started")
        return self._session

    async def start(self) -> None:
        """Open the session (idempotent)."""
        if self._session is not None and not self._session.closed:
            return
        resolver = self._resolver
        if resolver is None:
            resolver = self._owned_resolver = SafeResolver(allow_private=self.allow_private)
        if resolver.allow_private and not self.allow_private:
            raise ValueError("the resolver allows private addresses but the settings do not")
        connector = aiohttp.TCPConnector(
            resolver=resolver,
            limit=self._connection_limit,
            limit_per_host=self._connections_per_host,
            ttl_dns_cache=_DNS_CACHE_SECONDS,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(
                total=self.total_timeout,
                connect=self.connect_timeout,
                sock_connect=self.connect_timeout,
            ),
            headers={"User-Agent": self.user_agent},
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
        )

    async def close(self) -> None:
        """Close the session and its connections (idempotent)."""
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._owned_resolver is not None:
            await self._owned_resolver.close()
            self._owned_resolver = None

    async def __aenter__(self) -> FederationHttp:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
