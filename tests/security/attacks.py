"""What an attack in the catalogue is: a named request against the victim and
the answer it must get. The catalogue modules register cases with
:func:`attack`; ``test_attack_catalogue.py`` replays every one of them.

An expectation is either :class:`Refused` (a 4xx with a given problem type
and, for signature failures, reason; nothing recorded) or :class:`Recorded`
(202, then the worker records the activity as ``rejected`` or ``ignored``).
Either way no guarded table of the victim changes and the canary is never hit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from protocol import builders
from tests.security.scene import AS_PUBLIC, Scene

#: Attack classes, as THREAT_MODEL.md names them.
KEY_OWNER = "actor and key-owner mismatch"
LOOKALIKE = "key ids on look-alike hosts"
ORIGIN = "objects claiming another origin"
FORGED = "forged Announce, Update, Delete, Accept"
REPLAY = "replay, stale and future dates"
TAMPERED = "bodies changed after signing"
COVERAGE = "signatures that omit digest or target"
ALGORITHM = "algorithm confusion"
MALFORMED_SIGNATURE = "malformed signature headers"
SSRF = "SSRF"
HOSTILE_JSON = "hostile JSON"
OVERSIZED = "oversized bodies"
CONTENT_TYPE = "wrong content types"


@dataclass(frozen=True)
class Request:
    body: bytes
    headers: dict[str, str]
    path: str = "/inbox"
    method: str = "POST"
    #: The activity's id, when the case expects it to be recorded.
    activity_iri: str | None = None
    #: Send the body with chunked transfer encoding (no Content-Length).
    chunked: bool = False


@dataclass(frozen=True)
class Refused:
    status: int
    #: The problem type's slug; None where aiohttp answers before Kula sees the request.
    problem: str | None
    reason: str | None = None


@dataclass(frozen=True)
class Recorded:
    outcome: str  # "rejected" or "ignored"
    detail: str = ""  # a fragment the recorded detail or outcome must contain


Builder = Callable[[Scene], Awaitable[Request]]


@dataclass(frozen=True)
class Attack:
    name: str
    threat: str
    build: Builder
    expect: Refused | Recorded
    #: Send the request once (and process it) before the measured attempt.
    send_first: bool = False


CATALOGUE: list[Attack] = []


def attack(
    threat: str, expect: Refused | Recorded, *, send_first: bool = False
) -> Callable[[Builder], Builder]:
    """Register the decorated builder as a case named after the function."""

    def register(build: Builder) -> Builder:
        name = build.__name__.replace("_", "-")
        assert all(case.name != name for case in CATALOGUE), f"duplicate case {name}"
        CATALOGUE.append(Attack(name, threat, build, expect, send_first=send_first))
        return build

    return register


def signed(scene: Scene, signer: str, activity: dict[str, Any], **options: Any) -> Request:
    """``activity`` posted to the shared inbox, signed by the named attacker member."""
    body, headers = scene.sign(scene.actors[signer], activity, **options)
    return Request(body, headers, path=options.get("path", "/inbox"),
                   activity_iri=activity.get("id"))


def activity(scene: Scene, kind: str, actor: str, obj: Any, **extra: Any) -> dict[str, Any]:
    """A plain activity by an attacker member (``actor`` is a name or an IRI)."""
    actor_iri = scene.actors[actor].iri if actor in scene.actors else actor
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": scene.activity_iri(kind.lower()),
        "type": kind,
        "actor": actor_iri,
        "object": obj,
        "to": [AS_PUBLIC],
        **extra,
    }


def proposal(scene: Scene, author: str, iri: str, *, title: str = "Free chairs") -> dict[str, Any]:
    """A schema-valid Proposal at ``iri``, attributed to ``author`` (a name or an IRI)."""
    author_iri = scene.actors[author].iri if author in scene.actors else author
    return builders.proposal(
        id=iri, author=author_iri, purpose="offer", exchange_mode="give", name=title,
        content="<p>Two chairs</p>", to=[AS_PUBLIC],
        publishes=builders.primary_intent(
            proposal_id=iri, author=author_iri, purpose="offer", exchange_mode="give",
            resource_quantity=builders.measure(unit="one", value="2"),
        ),
    )


def harmless(scene: Scene) -> dict[str, Any]:
    """An activity the victim records and ignores: dave's follow is not accepted."""
    return activity(scene, "Announce", "dave", scene.iris["carol_listing"])
