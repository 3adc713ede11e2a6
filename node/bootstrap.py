"""Start-up duties: the node's own actors must have keys before anything is served."""

from __future__ import annotations

from node.keys import generate_key_pems
from node.services.context import NodeContext
from node.storage.records import NodeKeys
from node.timeutil import now_text

#: The instance actor signs fetches; the community Group announces listings.
NODE_ACTORS = ("instance", "community")


async def ensure_node_actors(ctx: NodeContext) -> None:
    async with ctx.storage.read() as session:
        missing = [name for name in NODE_ACTORS if await session.get_node_keys(name) is None]
    if not missing:
        return
    generated = {name: generate_key_pems() for name in missing}
    async with ctx.storage.transaction() as tx:
        for name, pems in generated.items():
            # Another process may have won the race since we looked.
            if await tx.get_node_keys(name) is None:
                await tx.insert_node_keys(
                    NodeKeys(
                        name=name,
                        rsa_private_pem=pems.rsa_private_pem,
                        ed25519_private_pem=pems.ed25519_private_pem,
                        created_at=now_text(),
                    )
                )
