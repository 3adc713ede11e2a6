"""Synthetic listings for the search and footprint benchmarks.

Text follows a Zipf law over a generated vocabulary (the word of rank r is
used in proportion to 1/r), so common words are as common as in real text:
the commonest appears in nearly every listing, the tenth in about a quarter,
the hundredth in a few percent. Places
cluster around cities; listings are spread over two years, newest last;
each stored row carries a listing document of realistic size.

Rows go straight into the node's SQLite tables (``listings``, their
categories and the FTS index) in large transactions: going through the
service layer would take hours for a million listings. The node's own
migrations create the schema first, and a finished database is kept in
``bench/results/cache`` for the next run.
"""

from __future__ import annotations

import itertools
import json
import math
import random
import shutil
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.report import RESULTS, log
from bench.servers import init_node

#: Bump when the generated data changes, so cached databases are rebuilt.
GENERATOR_VERSION = 1
VOCABULARY_SIZE = 20_000
CATEGORIES = (
    "tools", "garden", "furniture", "bikes", "books", "kids", "kitchen", "electronics",
    "sports", "music", "clothing", "camping", "toys", "crafts", "party", "games",
    "photo", "moving", "cleaning", "pets", "car", "baby", "office", "lighting",
    "repair", "outdoor", "winter", "travel", "art", "health",
)
MODES = (("sell", 35), ("lend", 20), ("rent", 15), ("give", 20), ("swap", 10))
STATUSES = (("available", 85), ("reserved", 5), ("withdrawn", 5), ("expired", 5))
CURRENCIES = (("EUR", 80), ("CHF", 10), ("GBP", 10))
PARTNER_HOSTS = 50
CITIES = 200
START = datetime(2024, 6, 1, tzinfo=UTC)
SPAN_SECONDS = 2 * 365 * 86_400
NODE_URL = "http://127.0.0.1:8080"


def vocabulary(seed: int) -> list[str]:
    """Pronounceable made-up words, shorter for the commoner ranks, all distinct."""
    rng = random.Random(seed)
    consonants, vowels = "bcdfghjklmnprstvwz", "aeiou"
    words: list[str] = []
    seen: set[str] = set()
    while len(words) < VOCABULARY_SIZE:
        rank = len(words)
        syllables = 1 if rank < 40 else 2 if rank < 1500 else 3 if rank < 12_000 else 4
        word = "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(syllables))
        if rank < 40 and rng.random() < 0.5:
            word += rng.choice(consonants)
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


@dataclass(frozen=True)
class Corpus:
    """What queries need to know about the generated data."""

    words: list[str]
    cities: list[tuple[float, float]]
    seed: int


def corpus(seed: int) -> Corpus:
    rng = random.Random(seed + 1)
    cities = [(rng.uniform(36.0, 60.0), rng.uniform(-9.0, 28.0)) for _ in range(CITIES)]
    return Corpus(vocabulary(seed), cities, seed)


def _weighted(options: tuple[tuple[str, int], ...]) -> tuple[list[str], list[int]]:
    return [name for name, _ in options], list(itertools.accumulate(w for _, w in options))


def _rows(
    data: Corpus, start: int, count: int, total: int, member_id: int
) -> Iterator[tuple[Any, ...]]:
    """``(listing row, categories, fts row)`` for listings ``start + 1 .. start + count``
    of ``total``."""
    rng = random.Random(data.seed * 1_000_003 + start)
    word_weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(data.words))))
    city_weights = list(itertools.accumulate(1 / (rank + 1) ** 0.8 for rank in range(CITIES)))
    category_weights = list(itertools.accumulate(1 / (r + 1) for r in range(len(CATEGORIES))))
    modes, mode_weights = _weighted(MODES)
    statuses, status_weights = _weighted(STATUSES)
    currencies, currency_weights = _weighted(CURRENCIES)
    for seq in range(start + 1, start + count + 1):
        title_words = rng.choices(data.words, cum_weights=word_weights, k=rng.randint(3, 6))
        title = " ".join(title_words).capitalize()
        sentences = [
            " ".join(rng.choices(data.words, cum_weights=word_weights, k=rng.randint(6, 14)))
            .capitalize() + "."
            for _ in range(rng.randint(2, 4))
        ]
        content = " ".join(sentences)
        categories = sorted(set(rng.choices(CATEGORIES, cum_weights=category_weights,
                                            k=rng.randint(1, 2))))
        mode = rng.choices(modes, cum_weights=mode_weights)[0]
        purpose = "request" if rng.random() < 0.2 else "offer"
        price = currency = None
        if mode in ("sell", "rent") and purpose == "offer":
            price = round(math.exp(rng.uniform(0, 7)), 2)
            currency = rng.choices(currencies, cum_weights=currency_weights)[0]
        latitude = longitude = None
        if rng.random() < 0.9:
            city_lat, city_lon = rng.choices(data.cities, cum_weights=city_weights)[0]
            latitude = round(rng.gauss(city_lat, 0.08), 5)
            longitude = round(rng.gauss(city_lon, 0.12), 5)
        published = START + timedelta(seconds=SPAN_SECONDS * (seq - 1) // total)
        local = rng.random() < 0.1
        host = "127.0.0.1:8080" if local else f"p{rng.randrange(PARTNER_HOSTS)}.example.org"
        base = f"http://{host}" if local else f"https://{host}"
        listing_id = f"{seq:026d}"
        iri = f"{base}/listings/{listing_id}"
        author = f"{base}/users/m{rng.randrange(5000)}"
        status = rng.choices(statuses, cum_weights=status_weights)[0]
        stamp = published.strftime("%Y-%m-%dT%H:%M:%SZ")
        expires = (published + timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%SZ")
        fields = {"purpose": purpose, "mode": mode, "title": title, "description": content,
                  "categories": categories, "quantity": 1, "expires_at": expires}
        document = _document(iri, author, purpose, mode, title, content, stamp, expires,
                             categories, latitude, longitude, base)
        row = (seq, listing_id, iri, author, member_id if local else None, host, purpose, mode,
               status, title, content, price, currency, latitude, longitude, expires, stamp,
               stamp, json.dumps(fields, separators=(",", ":")),
               json.dumps(document, separators=(",", ":")))
        yield row, categories, (seq, title, content, " ".join(categories))


def _document(iri: str, author: str, purpose: str, mode: str, title: str, content: str,
              published: str, expires: str, categories: list[str], latitude: float | None,
              longitude: float | None, base: str) -> dict[str, Any]:
    """A listing document shaped (and sized) like the ones the node stores."""
    context = ["https://www.w3.org/ns/activitystreams",
               "https://w3id.org/security/data-integrity/v2", "https://kula.community/ns/v1"]
    document: dict[str, Any] = {
        "@context": context, "id": iri, "type": "Proposal", "purpose": purpose,
        "exchangeMode": mode, "attributedTo": author, "name": title,
        "content": f"<p>{content}</p>", "mediaType": "text/html", "url": iri,
        "published": published,
        "publishes": {"id": f"{iri}#primary", "type": "Intent", "action": "transfer",
                      "resourceQuantity": {"hasUnit": "one", "hasNumericalValue": "1"},
                      "provider": author},
        "unitBased": False, "listingStatus": "available", "expires": expires,
        "tag": [{"type": "Hashtag", "name": f"#{c}", "href": f"{base}/tags/{c}"}
                for c in categories],
        "to": ["https://www.w3.org/ns/activitystreams#Public"], "cc": [f"{author}/followers"],
        "replies": f"{iri}/replies",
        "proof": {"@context": context, "type": "DataIntegrityProof",
                  "cryptosuite": "eddsa-jcs-2022", "verificationMethod": f"{author}#ed25519-key",
                  "proofPurpose": "assertionMethod", "created": published,
                  "proofValue": "z" + "4XCGs49mYsNrhKYMTK5kt8jTgSZMURdiYmFvF2HvsKSqw4nF" * 2},
    }
    if latitude is not None:
        document["location"] = {"type": "Place", "latitude": latitude, "longitude": longitude,
                                "radius": 150.0, "units": "m", "locationPrecision": "street"}
    return document


_LISTING_COLUMNS = (
    "seq, id, iri, author_iri, member_id, origin, purpose, mode, status, title, content,"
    " price_amount, price_currency, latitude, longitude, expires_at, published_at, updated_at,"
    " fields, document"
)


def bulk_load(database: Path, data: Corpus, count: int, *, member_id: int,
              chunk: int = 20_000) -> None:
    """Append ``count`` listings (seq 1..count) to an empty, migrated database."""
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        connection.execute("PRAGMA synchronous = OFF")
        started = time.perf_counter()
        for start in range(0, count, chunk):
            rows, links, texts = [], [], []
            size = min(chunk, count - start)
            for row, categories, text in _rows(data, start, size, count, member_id):
                rows.append(row)
                links += [(row[0], category) for category in categories]
                texts.append(text)
            connection.execute("BEGIN")
            connection.executemany(
                f"INSERT INTO listings ({_LISTING_COLUMNS}) VALUES"
                f" ({', '.join('?' * 20)})", rows)
            connection.executemany(
                "INSERT INTO listing_categories (listing_seq, category) VALUES (?, ?)", links)
            connection.executemany(
                "INSERT INTO listings_fts (rowid, title, content, categories)"
                " VALUES (?, ?, ?, ?)", texts)
            connection.execute("COMMIT")
            done = start + len(rows)
            if done % 100_000 == 0 or done == count:
                log(f"synthetic: {done:,} of {count:,} listings"
                    f" ({time.perf_counter() - started:.0f} s)")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


async def search_node(
    count: int, seed: int, *, cache: Path | None = None, rebuild: bool = False
) -> Path:
    """A node data directory holding ``count`` synthetic listings, from the
    cache when one was built with the same generator and seed (the node
    applies newer migrations when it opens it)."""
    name = f"search-{count}-s{seed}-g{GENERATOR_VERSION}"
    cache = cache or RESULTS / "cache"
    data_dir = cache / name
    marker = data_dir / "complete.json"
    if marker.exists() and not rebuild:
        log(f"synthetic: reusing {data_dir}")
        return data_dir
    shutil.rmtree(data_dir, ignore_errors=True)
    for stale in cache.glob(f"search-{count}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    await init_node(data_dir, url=NODE_URL, name="Search bench")
    member_id = await _first_member(data_dir)
    log(f"synthetic: generating {count:,} listings")
    started = time.perf_counter()
    data = corpus(seed)
    bulk_load(data_dir / "kula.sqlite3", data, count, member_id=member_id)
    marker.write_text(json.dumps({"listings": count, "seed": seed,
                                  "seconds": time.perf_counter() - started}))
    return data_dir


async def _first_member(data_dir: Path) -> int:
    from node.services import accounts
    from node.services.context import NodeContext
    from node.settings import load_settings
    from node.storage import create_storage

    settings = load_settings(data_dir)
    storage = create_storage(settings)
    await storage.open()
    try:
        member = await accounts.create_member(
            NodeContext(settings=settings, storage=storage), "alice",
            password="bench password 1234",
        )
    finally:
        await storage.close()
    return member.id
