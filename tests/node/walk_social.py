"""The vouch and question part of the OpenAPI walk (test_openapi_walk.py):
every operation called, every answer checked."""

from __future__ import annotations

from typing import Any

from conftest import TestMember as Caller
from helpers import listing_body

HOST = "127.0.0.1:8080"
QUESTION = "/api/v1/questions/{question_id}"
LISTING_QUESTIONS = "/api/v1/listings/{listing_id}/questions"


async def walk_vouches(api: Any, admin: Caller, bob: dict[str, str]) -> None:
    vouch = await api.call("POST", "/api/v1/vouches", headers=bob, expect=201,
                           json={"subject": f"{admin.member.username}@{HOST}"})
    await api.call("POST", "/api/v1/vouches", headers=bob, expect=409,
                   json={"subject": vouch["subject"]})
    await api.call("POST", "/api/v1/vouches", headers=bob, expect=422,
                   json={"subject": "nobody"})
    await api.call("GET", "/api/v1/members/{username}/vouches",
                   path={"username": admin.member.username}, expect=200)
    one = "/api/v1/vouches/{vouch_id}"
    await api.call("DELETE", one, path={"vouch_id": vouch["id"]}, headers=bob, expect=204)
    await api.call("DELETE", one, path={"vouch_id": vouch["id"]}, headers=bob, expect=409)
    await api.call("DELETE", one, path={"vouch_id": "nope"}, headers=bob, expect=404)
    await api.call("POST", "/api/v1/admin/invites", json={"vouch": True},
                   headers=admin.auth, expect=201)


async def walk_questions(api: Any, admin: Caller, bob: dict[str, str]) -> None:
    listing = await api.call("POST", "/api/v1/listings", headers=admin.auth, expect=201,
                             json=listing_body(title="Ladder"))
    ids = {"listing_id": listing["id"]}
    asked = await api.call("POST", LISTING_QUESTIONS, path=ids, headers=bob, expect=201,
                           json={"content": "How tall?"})
    await api.call("POST", LISTING_QUESTIONS, path=ids, headers=admin.auth, expect=409,
                   json={"content": "My own?"})
    await api.call("GET", LISTING_QUESTIONS, path=ids, expect=200)
    await api.call("GET", LISTING_QUESTIONS, path=ids, params={"include_hidden": "true"},
                   expect=403)
    await api.call("GET", LISTING_QUESTIONS, path=ids, params={"include_hidden": "x"},
                   expect=422)
    question = {"question_id": asked["id"]}
    await api.call("POST", QUESTION + "/answer", path=question, headers=admin.auth,
                   json={"content": "Three metres."}, expect=200)
    await api.call("POST", QUESTION + "/answer", path=question, headers=bob,
                   json={"content": "Mine?"}, expect=403)
    await api.call("POST", QUESTION + "/hide", path=question, headers=admin.auth, expect=200)
    await api.call("POST", QUESTION + "/hide", path=question, headers=admin.auth, expect=409)
    await api.call("GET", LISTING_QUESTIONS, path=ids, params={"include_hidden": "true"},
                   headers=admin.auth, expect=200)
    await api.call("POST", QUESTION + "/unhide", path=question, headers=admin.auth,
                   expect=200)
    await api.call("POST", QUESTION + "/unhide", path=question, headers=admin.auth,
                   expect=409)
    await api.call("DELETE", "/api/v1/listings/{listing_id}", path=ids, headers=admin.auth,
                   expect=204)
    await api.call("GET", LISTING_QUESTIONS, path=ids, expect=410)
    await api.call("POST", LISTING_QUESTIONS, path=ids, headers=bob, expect=410,
                   json={"content": "Gone?"})
