"""Load: 200 concurrent clients against one real node, then a count.

Node A is a ``kula serve`` process with its workers running, on SQLite.
Every client has its own ``aiohttp`` session (its own connection) and makes
:data:`OPERATIONS` requests, drawn by a seeded generator from a mix of
searches, listing reads, member listing pages, listing creations and
updates, and signed inbox posts from the members of node B (in this process,
which serves their actor documents). All clients start together; the test
is bounded by its count of requests, not by a clock.

Then: no request may have failed (no 5xx, nor anything else unexpected),
and every write the node acknowledged must be there: each created listing
readable with the title of its last acknowledged update, found by search
once, and each accepted inbox activity stored once and processed.

Rate limits: the write limit counts per member (120 a minute by default) and
the 200 clients share :data:`MEMBERS` members, so A's
``rate_limit_write_per_minute`` is raised for this test: it checks what the
node does under concurrency, not its limiter (tests/node cover that).
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from node.keys import load_ed25519_private, load_rsa_private
from node.services import accounts, listings, tokens
from node.services.actors import LocalActor, local_actor_by_iri
from node.services.context import NodeContext
from node.settings import load_settings
from node.storage import create_storage
from protocol import builders
from protocol.httpsig import sign_request
from protocol.proofs import sign_object
from tests.federation.harness import Node, settle
from tests.federation.procs import (
    ServedNode,
    db_rows,
    follow,
    integrity,
    queue_drained,
    wait_until,
)

ISSUE = "Kula reliability issue: load"
CLIENTS = 200
OPERATIONS = 8
MEMBERS = 20
SEED_LISTINGS = 20
AUTHORS = 4
LOCAL_WORD, REMOTE_WORD, SEED_WORD = "Loadkit", "Inboxkit", "Seedkit"
#: Operation kinds and their weights in the mix.
MIX = {"search": 5, "read": 4, "member-page": 2, "create": 5, "update": 2, "inbox": 2}
EXPECTED_STATUS = {
    "search": 200, "read": 200, "read-own": 200, "member-page": 200, "create": 201,
    "update": 200, "inbox": 202,
}


def listing_body(title: str) -> dict[str, Any]:
    return {"purpose": "offer", "mode": "lend", "title": title,
            "description": "Made under load.", "categories": ["tools"]}


@dataclass
class Ledger:
    """What the clients saw: every status per kind, and every acknowledged write."""

    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    unexpected: list[tuple[str, int, Any]] = field(default_factory=list)
    #: Listing id -> title of its last acknowledged create or update.
    titles: dict[str, str] = field(default_factory=dict)
    #: Ids of the inbox activities answered 202.
    accepted: list[str] = field(default_factory=list)

    def record(self, kind: str, status: int, body: Any) -> bool:
        self.statuses[(kind, status)] += 1
        if status != EXPECTED_STATUS[kind]:
            self.unexpected.append((kind, status, body))
            return False
        return True


@dataclass
class World:
    """What every client draws from."""

    a: ServedNode
    b: Node
    authors: list[LocalActor]
    tokens: list[str]
    usernames: list[str]
    seed_ids: list[str]

    def inbox_post(self, number: int) -> tuple[str, bytes, dict[str, str]]:
        """Activity ``number``, by one of B's authors, signed now for A's inbox."""
        return signed_create(self.a, self.b, self.authors[number % AUTHORS], number)


async def prepare_node(a: ServedNode) -> tuple[list[str], list[str], list[str]]:
    """Members, write tokens and seed listings, written before the node serves."""
    with (a.data_dir / "kula.toml").open("a", encoding="utf-8") as config:
        config.write("rate_limit_write_per_minute = 1000000\n")
    settings = load_settings(a.data_dir)
    storage = create_storage(settings)
    await storage.open()
    try:
        ctx = NodeContext(settings=settings, storage=storage)
        members = [await accounts.create_member(ctx, f"member{n}", password=None)
                   for n in range(MEMBERS)]
        secrets = [(await tokens.issue_token(ctx, member, "load", "write")).secret
                   for member in members]
        seeds = [await listings.create_listing(ctx, members[n % MEMBERS],
                                               listing_body(f"{SEED_WORD} {n}"))
                 for n in range(SEED_LISTINGS)]
    finally:
        await storage.close()
    return secrets, [member.username for member in members], [seed.id for seed in seeds]


def signed_create(a: ServedNode, b: Node, author: LocalActor, number: int) -> tuple[
        str, bytes, dict[str, str]]:
    """A Create of a listing by ``author``, signed for A's shared inbox."""
    object_iri = f"{b.url}/listings/load{number}"
    proposal = builders.proposal(
        id=object_iri, author=author.iri, purpose="offer", exchange_mode="give",
        name=f"{REMOTE_WORD} {number}", content="<p>Sent under load</p>",
        to=["https://www.w3.org/ns/activitystreams#Public"],
        publishes=builders.primary_intent(
            proposal_id=object_iri, author=author.iri, purpose="offer", exchange_mode="give",
            resource_quantity=builders.measure(unit="one", value="1"),
        ),
    )
    signed = sign_object(proposal, load_ed25519_private(author.ed25519_private_pem),
                         author.ed25519_key_id)
    activity_iri = f"{b.url}/activities/load{number}"
    activity = builders.create(id=activity_iri, actor=author.iri, object=signed,
                               to=["https://www.w3.org/ns/activitystreams#Public"])
    body = json.dumps(activity).encode()
    headers = sign_request(
        "POST", f"{a.url}/inbox", {"Content-Type": "application/activity+json"}, body,
        key_id=author.rsa_key_id, private_key=load_rsa_private(author.rsa_private_pem),
    )
    return activity_iri, body, headers


async def remote_authors(b: Node) -> list[LocalActor]:
    authors = []
    for number in range(AUTHORS):
        await b.member(f"author{number}", scope="write")
        author = await local_actor_by_iri(b.ctx, b.actor(f"author{number}"))
        assert author is not None
        authors.append(author)
    return authors


async def client(
    number: int, url: str, world: World, ledger: Ledger, start: asyncio.Event
) -> None:
    rng = random.Random(number)
    token = world.tokens[number % len(world.tokens)]
    auth = {"Authorization": f"Bearer {token}"}
    own: list[str] = []
    kinds = rng.choices(list(MIX), weights=list(MIX.values()), k=OPERATIONS)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(base_url=url, timeout=timeout) as session:
        await start.wait()
        for step, kind in enumerate(kinds):
            if kind == "update" and not own:
                kind = "create"
            if kind == "read" and own and rng.random() < 0.5:
                kind = "read-own"
            await _operation(session, kind, (number, step), rng, world, ledger, auth, own)


async def _operation(
    session: aiohttp.ClientSession, kind: str, ids: tuple[int, int], rng: random.Random,
    world: World, ledger: Ledger, auth: dict[str, str], own: list[str],
) -> None:
    method, path, options = "GET", "", {}
    title = f"{LOCAL_WORD} c{ids[0]} s{ids[1]}"
    if kind == "search":
        word = rng.choice([LOCAL_WORD, SEED_WORD, REMOTE_WORD, "ladder"])
        path = f"/api/v1/search?q={word}&status=any"
    elif kind == "read":
        path = f"/api/v1/listings/{rng.choice(world.seed_ids)}"
    elif kind == "read-own":
        path = f"/api/v1/listings/{rng.choice(own)}"
    elif kind == "member-page":
        path = f"/api/v1/members/{rng.choice(world.usernames)}/listings"
    elif kind == "create":
        method, path, options = "POST", "/api/v1/listings", {
            "json": listing_body(title), "headers": auth}
    elif kind == "update":
        method, path, options = "PATCH", f"/api/v1/listings/{rng.choice(own)}", {
            "json": {"title": title}, "headers": auth}
    else:
        activity_iri, body, headers = world.inbox_post(ids[0] * OPERATIONS + ids[1])
        method, path, options = "POST", "/inbox", {"data": body, "headers": headers}
    async with session.request(method, path, **options) as response:
        answer = await response.json(content_type=None) if response.content_length else None
        if not ledger.record(kind, response.status, answer):
            return
    if kind == "create":
        ledger.titles[answer["id"]] = title
        own.append(answer["id"])
    elif kind == "update":
        ledger.titles[answer["id"]] = title
    elif kind == "read-own":
        assert ledger.titles[answer["id"]] == answer["title"], "a write was not read back"
    elif kind == "inbox":
        ledger.accepted.append(activity_iri)


async def all_titles(a: ServedNode, word: str) -> Counter[str]:
    """Every title search finds for ``word``, page by page, counted."""
    found: Counter[str] = Counter()
    cursor = ""
    for _ in range(100):
        status, body = await a.api("GET", f"/api/v1/search?q={word}&status=any&limit=100"
                                   + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200, body
        found.update(item["title"] for item in body["items"])
        if body["next_cursor"] is None:
            return found
        cursor = body["next_cursor"]
    raise AssertionError("search kept paging")


@pytest.mark.spec(ISSUE)
@pytest.mark.timeout(90)
async def test_two_hundred_clients_get_no_server_error_and_lose_no_write(
    tmp_path: Path, cleanup: AsyncExitStack
) -> None:
    a = ServedNode("a", tmp_path)
    b = Node("b", tmp_path / "b")
    cleanup.push_async_callback(a.close)
    cleanup.push_async_callback(b.stop)
    await a.init()
    secrets, usernames, seed_ids = await prepare_node(a)
    await a.serve()
    await b.start()
    authors = await remote_authors(b)
    # A member of A follows each author, so their listings are kept and searchable.
    for number, author in enumerate(authors):
        await follow(a.api, secrets[number], author.iri, lambda: settle(b))
    world = World(a, b, authors, secrets, usernames, seed_ids)

    ledger, start = Ledger(), asyncio.Event()
    clients = [asyncio.create_task(client(n, a.url, world, ledger, start))
               for n in range(CLIENTS)]
    await asyncio.sleep(0)  # every client is waiting at the start line
    start.set()
    await asyncio.gather(*clients)

    assert sum(ledger.statuses.values()) == CLIENTS * OPERATIONS
    assert ledger.unexpected == [], ledger.unexpected[:5]
    kinds = {kind for kind, _ in ledger.statuses}
    assert kinds == set(EXPECTED_STATUS), f"the mix never drew {set(EXPECTED_STATUS) - kinds}"

    # Every acknowledged write is there, once, as last acknowledged.
    await wait_until(lambda: queue_drained(a.database), within=40,
                     what="A's workers to process what the clients queued")
    for listing_id, title in ledger.titles.items():
        status, shown = await a.api("GET", f"/api/v1/listings/{listing_id}")
        assert (status, shown["title"]) == (200, title)
    assert await all_titles(a, LOCAL_WORD) == Counter(ledger.titles.values())
    received = await db_rows(a.database, "SELECT iri, outcome FROM inbox_activities"
                             " WHERE type = 'Create'")
    assert sorted(row["iri"] for row in received) == sorted(ledger.accepted)
    assert {row["outcome"] for row in received} == {"applied"}
    remote = await all_titles(a, REMOTE_WORD)
    assert sum(remote.values()) == len(ledger.accepted) and set(remote.values()) == {1}
    assert await integrity(a.database) == "ok"
