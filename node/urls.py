"""Every IRI and URL the node mints, derived from its public base URL."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Urls:
    base: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "base", self.base.rstrip("/"))

    def actor(self, username: str) -> str:
        return f"{self.base}/users/{quote(username)}"

    def inbox(self, username: str) -> str:
        return f"{self.actor(username)}/inbox"

    def outbox(self, username: str) -> str:
        return f"{self.actor(username)}/outbox"

    def followers(self, username: str) -> str:
        return f"{self.actor(username)}/followers"

    def following(self, username: str) -> str:
        return f"{self.actor(username)}/following"

    def profile_page(self, username: str) -> str:
        return f"{self.base}/@{quote(username)}"

    def rsa_key_id(self, actor_iri: str) -> str:
        return f"{actor_iri}#main-key"

    def ed25519_key_id(self, actor_iri: str) -> str:
        return f"{actor_iri}#ed25519-key"

    @property
    def shared_inbox(self) -> str:
        return f"{self.base}/inbox"

    @property
    def instance_actor(self) -> str:
        return f"{self.base}/actor"

    def listing(self, listing_id: str) -> str:
        return f"{self.base}/listings/{listing_id}"

    def activity(self, activity_id: str) -> str:
        return f"{self.base}/activities/{activity_id}"

    def media(self, filename: str) -> str:
        return f"{self.base}/media/{filename}"
