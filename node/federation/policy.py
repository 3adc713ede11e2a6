"""Federation policy: which hosts this node talks to.

Blocks apply at once and everywhere: the inbox refuses the host, deliveries
to it stop, fetches from it are refused, its content is hidden from search.
In allow-list mode only listed hosts are federated with.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from node.errors import Forbidden
from node.services.context import NodeContext
from node.storage.base import Session


# The inbox asks this several times per activity, mostly of the same actor IRIs.
@lru_cache(maxsize=4096)
def host_of(iri: str) -> str:
    """The authority (host[:port]) of an IRI, lower-cased: what policies name."""
    return urlsplit(iri).netloc.lower()


async def host_allowed(ctx: NodeContext, session: Session, host: str) -> bool:
    host = host.lower()
    if host == ctx.settings.public_host.lower():
        return True
    policy = await session.get_host_policy(host)
    if policy is not None and policy.policy == "block":
        return False
    if ctx.settings.federation == "allowlist":
        return policy is not None and policy.policy == "allow"
    return True


async def require_host_allowed(ctx: NodeContext, host: str) -> None:
    async with ctx.storage.read() as session:
        allowed = await host_allowed(ctx, session, host)
    if not allowed:
        raise Forbidden(f"this node does not federate with {host}")
