"""Hypothesis throws activity-shaped JSON, correctly signed by a real remote
actor, at a real victim's inbox.

Two generators: activities built from scratch out of the scene's IRIs and
arbitrary JSON, and valid documents (a listing, a reply, an offer, exchange
steps) with a few members replaced, deleted or added, then given their
author's proof or not, so that the generated input gets past the signature
and proof checks into the handlers. The scene has an exchange in progress
(bob's offer on alice's listing) for the exchange steps to act on.

Whatever is generated, the inbox answers below 500, and every activity it
accepts is processed to a recorded outcome by the worker: no handler raises
anything but the errors that mean "rejected" (a crash would leave the outcome
empty and log the job as failed). The canary is never contacted.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.federation.harness import settle
from tests.security.scene import Scene, close_scene, make_scene
from tests.security.strategies import activities, json_values, mutate, templates

pytestmark = pytest.mark.asyncio(loop_scope="module")
EXAMPLES = 200


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def scene(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Scene]:
    built = await make_scene(Path(tmp_path_factory.mktemp("hostile-scene")))
    await start_exchange(built)
    try:
        yield built
    finally:
        await close_scene(built)


async def start_exchange(scene: Scene) -> None:
    """bob offers to take alice's listing; the victim records the exchange."""
    token, listing = scene.iris["bob_token"], scene.iris["alice_listing"]
    status, body = await scene.attacker.api(
        "GET", "/api/v1/lookup/listing", token, params={"iri": listing}
    )
    assert status == 200, body
    status, body = await scene.attacker.api(
        "POST", "/api/v1/exchanges", token, json={"listing": listing, "message": "Still there?"}
    )
    assert status == 201, body
    await settle(scene.attacker, scene.victim)
    async with scene.victim.ctx.storage.read() as session:
        [row] = await session._all(
            "SELECT pending_offer_iri, agreement_iri, state FROM exchanges"
        )
    assert row["state"] == "offered", dict(row)
    scene.iris["offer"], scene.iris["agreement"] = row["pending_offer_iri"], row["agreement_iri"]


class _Failures(logging.Handler):
    """Collects what the job engine logs when a handler raises unexpectedly."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(self.format(record))


@pytest.fixture(scope="module")
def drawn_activities(scene: Scene) -> st.SearchStrategy[dict[str, Any]]:
    # Built once: constructing these recursive strategies costs more than a request.
    return activities(scene)


@pytest.fixture(scope="module")
def values(scene: Scene) -> st.SearchStrategy[Any]:
    return json_values(scene)


@pytest.fixture(scope="module")
def job_failures() -> Iterator[_Failures]:
    handler = _Failures()
    logger = logging.getLogger("kula.jobs")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def as_activity(scene: Scene, drawn: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The drawn fields as an activity of the drawn signer, with a fresh id."""
    signer = drawn.pop("signer")
    actor = scene.actors[signer].iri
    document = {key: value for key, value in drawn.items() if key != "embedded_actor"}
    document["id"] = scene.activity_iri("fuzz")
    document["actor"] = {"id": actor, "type": "Person"} if drawn.get("embedded_actor") else actor
    return signer, document


@pytest.mark.spec("Kula THREAT_MODEL.md: generated activities never crash the inbox or worker")
@settings(
    max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_generated_activities_never_crash(
    scene: Scene, drawn_activities: st.SearchStrategy[dict[str, Any]],
    job_failures: _Failures, data: st.DataObject,
) -> None:
    signer, document = as_activity(scene, data.draw(drawn_activities))
    await post_and_process(scene, job_failures, signer, document)


@pytest.mark.spec("Kula THREAT_MODEL.md: mutated valid documents never crash the worker")
@settings(
    max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_mutated_documents_never_crash(
    scene: Scene, values: st.SearchStrategy[Any], job_failures: _Failures, data: st.DataObject,
) -> None:
    kinds, obj = data.draw(st.sampled_from(templates(scene)), label="template")
    obj = obj()
    sign_after = data.draw(st.booleans(), label="proof after mutation")
    if not sign_after:
        obj = scene.proof(scene.actors["bob"], obj)
    mutate(data, obj, values)
    if sign_after and isinstance(obj, dict):
        obj.pop("proof", None)
        obj = scene.proof(scene.actors["bob"], obj)
    kind = data.draw(st.sampled_from(kinds), label="activity type")
    document = {
        "@context": "https://www.w3.org/ns/activitystreams", "type": kind,
        "id": scene.activity_iri("mut"), "actor": scene.actors["bob"].iri, "object": obj,
    }
    if kind == "Offer":
        document["inReplyTo"] = data.draw(
            st.sampled_from([scene.iris["alice_listing"], scene.iris["offer"]]), label="answers"
        )
    if data.draw(st.booleans(), label="mutate the activity"):
        mutate(data, document, values)
        document["id"] = scene.activity_iri("mut")
    await post_and_process(scene, job_failures, "bob", document)


async def post_and_process(
    scene: Scene, job_failures: _Failures, signer: str, document: dict[str, Any]
) -> None:
    """Post one generated activity and process it; judge this example alone."""
    body, headers = scene.sign(scene.actors[signer], document)
    job_failures.messages.clear()
    canary_hits = len(scene.canary.hits)

    status, answer = await scene.post(body, headers)

    assert status < 500, answer
    if status == 202:
        await scene.settle_victim()
        outcome, _ = await scene.outcome(document["id"])
        # An exchange step that arrives before its turn is put off, not refused.
        assert outcome is not None or await scene.awaiting_retry(document["id"]), document
    else:
        assert isinstance(answer, dict) and answer["type"].startswith(
            "https://kula.community/problems/"
        ), answer
    assert job_failures.messages == []
    assert len(scene.canary.hits) == canary_hits
