"""Replay the attack catalogue against a real victim node.

Each case sends one hostile request (built by the catalogue modules) and must
get the answer it names: a 4xx with the named problem type, or 202 and then an
outcome of ``rejected`` or ``ignored`` from the worker. Whatever the answer,
no guarded table of the victim changes, the inbox log grows only by the
recorded activity (whose outcome is set, so its job did not crash) and the
canary is never contacted.

The scene (see scene.py) is built once for the module; every case leaves it
as it found it, which is exactly what each case checks.
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.security import (
    catalogue_objects,
    catalogue_signatures,
    catalogue_ssrf,
    catalogue_transport,
)
from tests.security.attacks import CATALOGUE, Attack, Recorded, Refused, Request
from tests.security.scene import Scene, close_scene, make_scene

pytestmark = pytest.mark.asyncio(loop_scope="module")
# The catalogue modules register their cases on import.
assert catalogue_objects and catalogue_signatures and catalogue_ssrf and catalogue_transport


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def scene(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Scene]:
    built = await make_scene(Path(tmp_path_factory.mktemp("attack-scene")))
    try:
        yield built
    finally:
        await close_scene(built)


async def send(scene: Scene, request: Request) -> tuple[int, object]:
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(request.body), 64 * 1024):
            yield request.body[start:start + 64 * 1024]

    session = scene.victim.session
    assert session is not None
    data: object = chunks() if request.chunked else io.BytesIO(request.body)
    async with session.request(
        request.method, request.path, data=data, headers=request.headers
    ) as response:
        text = await response.text()
        is_json = response.content_type in ("application/json", "application/problem+json")
    return response.status, json.loads(text) if is_json else text


@pytest.mark.spec("Kula THREAT_MODEL.md: the attack catalogue")
@pytest.mark.parametrize("case", CATALOGUE, ids=[case.name for case in CATALOGUE])
async def test_attack_is_refused_and_changes_nothing(scene: Scene, case: Attack) -> None:
    request = await case.build(scene)
    if case.send_first:
        status, body = await send(scene, request)
        assert status == 202, body
        await scene.settle_victim()
    before, inbox_before = await scene.snapshot(), await scene.inbox_count()
    canary_before = list(scene.canary.hits)

    status, body = await send(scene, request)

    assert status < 500, body
    expected = case.expect
    if isinstance(expected, Refused):
        assert status == expected.status, body
        if expected.problem is not None:
            assert isinstance(body, dict), body
            assert body["type"] == f"https://kula.community/problems/{expected.problem}", body
        if expected.reason is not None:
            assert isinstance(body, dict) and body.get("reason") == expected.reason, body
        assert await scene.inbox_count() == inbox_before
    else:
        assert isinstance(expected, Recorded)
        assert status == 202, body
        assert request.activity_iri is not None
        await scene.settle_victim()
        outcome, detail = await scene.outcome(request.activity_iri)
        assert outcome is not None and outcome.startswith(expected.outcome), (outcome, detail)
        assert expected.detail in f"{outcome} {detail}", (outcome, detail)
        assert await scene.inbox_count() == inbox_before + 1
    assert await scene.snapshot() == before
    assert scene.canary.hits == canary_before == []
