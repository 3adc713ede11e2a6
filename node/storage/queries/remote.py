"""Remote actors (the key cache), follows, host policies and peers."""

from __future__ import annotations

from collections.abc import Sequence

from node.storage.queries._base import QueryBase, Row, dumps, loads
from node.storage.queries.queue import host_policies_statement, policies_by_host
from node.storage.records import Follow, HostPolicy, Peer, RemoteActor


def _remote_actor(row: Row) -> RemoteActor:
    data = dict(row)
    data["document"] = loads(data["document"])
    return RemoteActor(**data)


class RemoteQueries(QueryBase):
    async def upsert_remote_actor(self, actor: RemoteActor) -> None:
        await self._exec("DELETE FROM remote_actors WHERE rsa_key_id = ? AND iri <> ?",
                         (actor.rsa_key_id, actor.iri))
        await self._exec(
            "INSERT INTO remote_actors (iri, host, type, preferred_username, inbox, shared_inbox,"
            " followers, rsa_key_id, rsa_public_pem, document, fetched_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (iri) DO UPDATE SET host = excluded.host, type = excluded.type,"
            " preferred_username = excluded.preferred_username, inbox = excluded.inbox,"
            " shared_inbox = excluded.shared_inbox, followers = excluded.followers,"
            " rsa_key_id = excluded.rsa_key_id, rsa_public_pem = excluded.rsa_public_pem,"
            " document = excluded.document, fetched_at = excluded.fetched_at,"
            " expires_at = excluded.expires_at",
            (
                actor.iri, actor.host, actor.type, actor.preferred_username, actor.inbox,
                actor.shared_inbox, actor.followers, actor.rsa_key_id, actor.rsa_public_pem,
                dumps(actor.document), actor.fetched_at, actor.expires_at,
            ),
        )

    async def get_remote_actor(self, iri: str) -> RemoteActor | None:
        row = await self._one("SELECT * FROM remote_actors WHERE iri = ?", (iri,))
        return None if row is None else _remote_actor(row)

    async def get_remote_actor_by_key(self, key_id: str) -> RemoteActor | None:
        row = await self._one("SELECT * FROM remote_actors WHERE rsa_key_id = ?", (key_id,))
        return None if row is None else _remote_actor(row)

    async def delete_remote_actors_of_host(self, host: str) -> int:
        return await self._exec("DELETE FROM remote_actors WHERE host = ?", (host,))

    # Follows -----------------------------------------------------------------

    async def upsert_follow(self, follow: Follow) -> None:
        await self._exec(
            "INSERT INTO follows (id, follower_iri, followee_iri, state, activity_iri,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (follower_iri, followee_iri) DO UPDATE SET state = excluded.state,"
            " activity_iri = excluded.activity_iri, updated_at = excluded.updated_at",
            (
                follow.id, follow.follower_iri, follow.followee_iri, follow.state,
                follow.activity_iri, follow.created_at, follow.updated_at,
            ),
        )

    async def get_follow(self, follower_iri: str, followee_iri: str) -> Follow | None:
        row = await self._one(
            "SELECT * FROM follows WHERE follower_iri = ? AND followee_iri = ?",
            (follower_iri, followee_iri),
        )
        return None if row is None else Follow(**dict(row))

    async def get_follow_by_id(self, follow_id: str) -> Follow | None:
        row = await self._one("SELECT * FROM follows WHERE id = ?", (follow_id,))
        return None if row is None else Follow(**dict(row))

    async def get_follow_by_activity(self, activity_iri: str) -> Follow | None:
        row = await self._one("SELECT * FROM follows WHERE activity_iri = ?", (activity_iri,))
        return None if row is None else Follow(**dict(row))

    async def set_follow_state(self, follow_id: str, state: str, now: str) -> None:
        await self._exec(
            "UPDATE follows SET state = ?, updated_at = ? WHERE id = ?", (state, now, follow_id)
        )

    async def delete_follow(self, follow_id: str) -> None:
        await self._exec("DELETE FROM follows WHERE id = ?", (follow_id,))

    async def list_follows(
        self, *, follower_iri: str | None = None, followee_iri: str | None = None,
        state: str | None = "accepted", after_id: str = "", limit: int = 100,
    ) -> list[Follow]:
        clauses, params = ["id > ?"], [after_id]
        for column, value in (("follower_iri", follower_iri), ("followee_iri", followee_iri),
                              ("state", state)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        rows = await self._all(
            f"SELECT * FROM follows WHERE {' AND '.join(clauses)} ORDER BY id LIMIT ?",
            (*params, limit),
        )
        return [Follow(**dict(row)) for row in rows]

    async def count_follows(
        self, *, follower_iri: str | None = None, followee_iri: str | None = None
    ) -> int:
        column, value = (
            ("follower_iri", follower_iri) if follower_iri else ("followee_iri", followee_iri)
        )
        row = await self._one(
            f"SELECT count(*) AS n FROM follows WHERE {column} = ? AND state = 'accepted'",
            (value,),
        )
        return int(row["n"]) if row else 0

    async def follower_inboxes(self, followee_iri: str) -> list[str]:
        """Distinct delivery inboxes of a local actor's accepted remote followers."""
        rows = await self._all(
            "SELECT DISTINCT coalesce(r.shared_inbox, r.inbox) AS inbox FROM follows f"
            " JOIN remote_actors r ON r.iri = f.follower_iri"
            " WHERE f.followee_iri = ? AND f.state = 'accepted' ORDER BY inbox",
            (followee_iri,),
        )
        return [row["inbox"] for row in rows]

    async def delete_follows_of_host(self, host_prefix: str) -> int:
        pattern = host_prefix.replace("%", r"\%").replace("_", r"\_") + "%"
        return await self._exec(
            "DELETE FROM follows WHERE follower_iri LIKE ? ESCAPE '\\'"
            " OR followee_iri LIKE ? ESCAPE '\\'",
            (pattern, pattern),
        )

    # Host policies and peers ---------------------------------------------------

    async def set_host_policy(self, policy: HostPolicy) -> None:
        await self._exec(
            "INSERT INTO host_policies (host, policy, note, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (host) DO UPDATE SET policy = excluded.policy, note = excluded.note",
            (policy.host, policy.policy, policy.note, policy.created_at),
        )

    async def delete_host_policy(self, host: str) -> bool:
        return await self._exec("DELETE FROM host_policies WHERE host = ?", (host,)) > 0

    async def get_host_policy(self, host: str) -> HostPolicy | None:
        row = await self._one("SELECT * FROM host_policies WHERE host = ?", (host,))
        return None if row is None else HostPolicy(**dict(row))

    async def get_host_policies(self, hosts: Sequence[str]) -> dict[str, HostPolicy]:
        """The policies naming any of ``hosts``, by host."""
        if not hosts:
            return {}
        return policies_by_host(await self._all(*host_policies_statement(hosts)))

    async def list_host_policies(self) -> list[HostPolicy]:
        rows = await self._all("SELECT * FROM host_policies ORDER BY policy, host")
        return [HostPolicy(**dict(row)) for row in rows]

    async def add_peer(self, peer: Peer) -> None:
        await self._exec(
            "INSERT INTO peers (host, group_iri, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (host) DO UPDATE SET group_iri = excluded.group_iri",
            (peer.host, peer.group_iri, peer.created_at),
        )

    async def remove_peer(self, host: str) -> bool:
        return await self._exec("DELETE FROM peers WHERE host = ?", (host,)) > 0

    async def list_peers(self) -> list[Peer]:
        rows = await self._all("SELECT * FROM peers ORDER BY host")
        return [Peer(**dict(row)) for row in rows]

    async def followed_by_local(self, followee_iri: str, local_prefix: str) -> bool:
        """Whether any actor of this node (IRIs under ``local_prefix``) follows ``followee_iri``."""
        pattern = local_prefix.replace("%", r"\%").replace("_", r"\_") + "%"
        row = await self._one(
            "SELECT 1 AS yes FROM follows WHERE followee_iri = ? AND state = 'accepted'"
            " AND follower_iri LIKE ? ESCAPE '\\' LIMIT 1",
            (followee_iri, pattern),
        )
        return row is not None
