"""Operations of vouches and of public questions on listings."""

from __future__ import annotations

from node.openapi_federation import REMOTE_ERRORS
from node.openapi_paths import Endpoint, query_param

_QUESTION = "/api/v1/questions/{question_id}"
_LISTING_QUESTIONS = "/api/v1/listings/{listing_id}/questions"


def social_endpoints() -> list[Endpoint]:
    """Vouching for people, and asking, answering and hiding questions on listings."""
    return [
        Endpoint("POST", "/api/v1/vouches", "vouch",
                 "Vouch that you know someone (here or on another node).", "reputation",
                 scope="write", body="api-vouch-request", status=201, result="api-vouch",
                 extra_errors=(409, *REMOTE_ERRORS)),
        Endpoint("DELETE", "/api/v1/vouches/{vouch_id}", "revokeVouch",
                 "Revoke one of your vouches.", "reputation", scope="write", status=204,
                 extra_errors=(409,)),
        Endpoint("GET", "/api/v1/members/{username}/vouches", "listMemberVouches",
                 "Current vouches for and by a member.", "reputation",
                 result="api-vouch-lists"),
        Endpoint("POST", _LISTING_QUESTIONS, "askQuestion",
                 "Ask a public question about a listing (here or held from another node).",
                 "questions", scope="write", body="api-question-request", status=201,
                 result="api-question", extra_errors=(409, 410)),
        Endpoint("GET", _LISTING_QUESTIONS, "listQuestions",
                 "A listing's questions with their answers, oldest first.", "questions",
                 result="api-question-list", extra_errors=(401, 403, 410, 422),
                 query=(query_param(
                     "include_hidden", {"enum": ["true", "false"], "default": "false"},
                     "Hidden questions too: for the listing's author, or an admin token.",
                 ),)),
        Endpoint("POST", f"{_QUESTION}/answer", "answerQuestion",
                 "Answer a question on your listing (again: the answer is replaced).",
                 "questions", scope="write", body="api-question-request",
                 result="api-question", extra_errors=(409,)),
        Endpoint("POST", f"{_QUESTION}/hide", "hideQuestion",
                 "Hide a question: the listing's author (everywhere) or a moderator "
                 "(an admin token; everywhere only on the listing's own node).", "questions",
                 scope="write", result="api-question", extra_errors=(409,)),
        Endpoint("POST", f"{_QUESTION}/unhide", "unhideQuestion",
                 "Show a hidden question again (one a moderator hid: moderators only).",
                 "questions", scope="write", result="api-question", extra_errors=(409,)),
    ]
