"""Portable SQL, one mixin per table family. Placeholders are ``?``; a backend
that speaks another style rewrites them once."""

from node.storage.queries.activities import ActivityQueries
from node.storage.queries.attestations import AttestationQueries
from node.storage.queries.exchanges import ExchangeQueries
from node.storage.queries.images import ImageQueries
from node.storage.queries.invites import InviteQueries
from node.storage.queries.keys import KeyQueries
from node.storage.queries.listings import ListingQueries, listing_from_row
from node.storage.queries.members import MemberQueries
from node.storage.queries.queue import QueueQueries
from node.storage.queries.remote import RemoteQueries
from node.storage.queries.replies import ReplyQueries
from node.storage.queries.tokens import TokenQueries

__all__ = [
    "ActivityQueries",
    "AttestationQueries",
    "ExchangeQueries",
    "ImageQueries",
    "InviteQueries",
    "KeyQueries",
    "ListingQueries",
    "MemberQueries",
    "QueueQueries",
    "RemoteQueries",
    "ReplyQueries",
    "TokenQueries",
    "listing_from_row",
]
