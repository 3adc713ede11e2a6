"""``OrderedCollection`` and ``OrderedCollectionPage`` (outboxes, followers, listings)."""

from __future__ import annotations

from collections.abc import Iterable

from protocol.builders._common import JsonDict, drop_unset, embedded, with_context


def ordered_collection(
    *,
    id: str,
    total_items: int,
    first: str | None = None,
    last: str | None = None,
    ordered_items: Iterable[JsonDict | str] | None = None,
) -> JsonDict:
    """A collection: paged (``first``/``last``) or, when small, with its items inline."""
    document = drop_unset({
        "id": id,
        "type": "OrderedCollection",
        "totalItems": total_items,
        "first": first,
        "last": last,
    })
    if ordered_items is not None:
        document["orderedItems"] = [embedded(item) for item in ordered_items]
    return with_context(document)


def ordered_collection_page(
    *,
    id: str,
    part_of: str,
    ordered_items: Iterable[JsonDict | str],
    next: str | None = None,
    prev: str | None = None,
    start_index: int | None = None,
) -> JsonDict:
    """One page of an ordered collection."""
    return with_context(drop_unset({
        "id": id,
        "type": "OrderedCollectionPage",
        "partOf": part_of,
        "startIndex": start_index,
        "next": next,
        "prev": prev,
    }) | {"orderedItems": [embedded(item) for item in ordered_items]})
