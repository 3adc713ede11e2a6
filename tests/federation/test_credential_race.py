"""A credential's Create and the Delete that overtook it, processed at the same
instant by two workers on PostgreSQL: each transaction is blind to the other's
uncommitted rows, so without a shared lock the credential would be stored
live after its deletion was remembered (SPEC §11.3, §11.4)."""

from __future__ import annotations

import asyncio

from node.federation.handlers import credential_deletes
from node.storage.postgres import PostgresStorage

ISSUER = "https://remote.example/users/bob"
CREDENTIAL = "https://remote.example/attestations/1"


async def waiting_for_a_lock(storage: PostgresStorage) -> bool:
    async with storage.read() as session:
        row = await session._one(
            "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        )
    return row is not None and row["n"] > 0


async def test_a_create_waits_for_the_delete_processed_beside_it(postgres_url: str) -> None:
    storage = PostgresStorage(postgres_url)
    await storage.open()
    try:
        deleting = storage.transaction()
        delete_tx = await deleting.__aenter__()
        # The Delete's worker: the credential is not held, so its deletion is remembered.
        await delete_tx.serialize_on(CREDENTIAL)
        await credential_deletes.remember(delete_tx, CREDENTIAL, ISSUER)

        async def create() -> str | None:
            # The Create's worker, at the same moment, looks for a remembered deletion.
            async with storage.transaction() as tx:
                await tx.serialize_on(CREDENTIAL)
                return await credential_deletes.revoked_before_arrival(tx, CREDENTIAL, ISSUER)

        creating = asyncio.ensure_future(create())
        # Each turn is a query to the server: the Create is seen waiting on the lock,
        # or (without one) it has finished already.
        while not creating.done() and not await waiting_for_a_lock(storage):
            pass
        await deleting.__aexit__(None, None, None)
        assert await creating is not None  # it saw the deletion, once committed
    finally:
        await storage.close()


async def test_other_credentials_do_not_wait(postgres_url: str) -> None:
    storage = PostgresStorage(postgres_url)
    await storage.open()
    try:
        async with storage.transaction() as first:
            await first.serialize_on(CREDENTIAL)
            async with storage.transaction() as second:
                await second.serialize_on(CREDENTIAL + "-other")  # returns at once
    finally:
        await storage.close()
