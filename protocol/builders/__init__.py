"""Builders of every document Kula sends, one small module per family.

Each builder takes keyword-only arguments, is given every id by its caller
(builders never invent URLs) and returns a plain dict carrying the right
``@context`` from :mod:`protocol.namespaces`. Objects nested in an activity
lose their own ``@context``.
"""

from protocol.builders.activities import (
    accept,
    announce,
    create,
    delete,
    flag,
    follow,
    move,
    private_message,
    reject,
    tombstone,
    undo,
    update,
)
from protocol.builders.actor import actor, multikey, rsa_public_key
from protocol.builders.attestation import exchange_attestation
from protocol.builders.collections import ordered_collection, ordered_collection_page
from protocol.builders.exchange import (
    accept_offer,
    agreement,
    commitment,
    offer,
    reject_offer,
    withdraw_offer,
)
from protocol.builders.lifecycle import (
    cancel,
    complete,
    dispute,
    exchange_activity,
    handover,
    no_show,
    return_,
)
from protocol.builders.listing import (
    availability_window,
    category,
    hashtag,
    image,
    intent,
    measure,
    place,
    primary_intent,
    proposal,
    reciprocal_intent,
)

__all__ = [
    "accept", "accept_offer", "actor", "agreement", "announce", "availability_window",
    "cancel", "category", "commitment", "complete", "create", "delete", "dispute",
    "exchange_activity", "exchange_attestation", "flag", "follow", "handover", "hashtag",
    "image", "intent", "measure", "move", "multikey", "no_show", "offer",
    "ordered_collection", "ordered_collection_page", "place", "primary_intent",
    "private_message", "proposal", "reciprocal_intent", "reject", "reject_offer",
    "return_", "rsa_public_key", "tombstone", "undo", "update", "withdraw_offer",
]
