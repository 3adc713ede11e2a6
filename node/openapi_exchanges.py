"""Operations of exchanges between members, their messages and notifications."""

from __future__ import annotations

from node.openapi_federation import REMOTE_ERRORS
from node.openapi_paths import Endpoint, query_param
from node.web.api_exchanges import LIFECYCLE_ACTIONS

_ONE = "/api/v1/exchanges/{exchange_id}"
_ACTION_BODY = {
    "required": False,
    "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/api-exchange-action-request"}
    }},
}


def exchange_endpoints() -> list[Endpoint]:
    """Offers, answers and the lifecycle; each answers the exchange as it now stands."""
    moves = [
        Endpoint("POST", f"{_ONE}/{action}", f"exchange{action.title().replace('-', '')}",
                 f"{action.replace('-', ' ').capitalize()}: move the exchange on.", "exchanges",
                 scope="write", body=_ACTION_BODY, result="api-exchange", extra_errors=(409,))
        for action in (*LIFECYCLE_ACTIONS, "reject", "withdraw")
    ]
    return [
        Endpoint("POST", "/api/v1/exchanges", "offer",
                 "Answer a listing (here or on another node) with an offer.", "exchanges",
                 scope="write", body="api-exchange-offer-request", status=201,
                 result="api-exchange", extra_errors=(409, *REMOTE_ERRORS)),
        Endpoint("GET", "/api/v1/exchanges", "listExchanges", "Your exchanges.", "exchanges",
                 scope="read", result="api-exchange-list"),
        Endpoint("GET", _ONE, "getExchange", "One of your exchanges, with its history.",
                 "exchanges", scope="read", result="api-exchange"),
        Endpoint("POST", f"{_ONE}/counter", "counterOffer",
                 "Answer the pending offer with other terms.", "exchanges", scope="write",
                 body="api-exchange-counter-request", result="api-exchange",
                 extra_errors=(409,)),
        Endpoint("POST", f"{_ONE}/accept", "acceptOffer",
                 "Accept the pending offer; both parties have then signed the Agreement.",
                 "exchanges", scope="write", result="api-exchange", extra_errors=(409,)),
        *moves,
        Endpoint("GET", f"{_ONE}/messages", "listMessages",
                 "The private messages, in the order this node received them.",
                 "exchanges", scope="read", result="api-message-list"),
        Endpoint("POST", f"{_ONE}/messages", "sendMessage",
                 "Write to the other party (delivered to them alone).", "exchanges",
                 scope="write", body="api-message-request", status=201, result="api-message"),
        Endpoint("GET", "/api/v1/notifications", "listNotifications",
                 "Offers, answers and messages for you, newest first.", "exchanges",
                 scope="read", result="api-notification-list",
                 query=(query_param("unread", {"enum": ["true", "false"]},
                                    "Only unread ones."),)),
        Endpoint("POST", f"{_ONE}/attestation", "attest",
                 "Attest the other party of a completed exchange (again: a revision).",
                 "reputation", scope="write", body="api-attestation-request", status=201,
                 result="api-attestation", extra_errors=(409,)),
        Endpoint("DELETE", "/api/v1/attestations/{attestation_id}", "withdrawAttestation",
                 "Withdraw one of your attestations.", "reputation", scope="write",
                 status=204, extra_errors=(409,)),
        Endpoint("GET", "/api/v1/members/{username}/attestations", "listMemberAttestations",
                 "Verified attestations about and by a member.", "reputation",
                 result="api-attestation-lists"),
        Endpoint("POST", "/api/v1/attestation-replies", "answerAttestation",
                 "Answer, in public, an attestation about you.", "reputation", scope="write",
                 body="api-attestation-reply-request", status=201, result="api-created-note",
                 extra_errors=(404,)),
        Endpoint("GET", "/api/v1/reputation", "getReputation",
                 "A member's reputation (here or elsewhere) with its range and evidence.",
                 "reputation", result="api-reputation", extra_errors=(422, *REMOTE_ERRORS),
                 query=(query_param("actor", {"type": "string", "minLength": 1,
                                              "maxLength": 2048},
                                    "A handle (name@host) or an actor IRI.", required=True),)),
        Endpoint("POST", "/api/v1/notifications/read", "markNotificationsRead",
                 "Mark notifications up to an id as read.", "exchanges", scope="write",
                 body="api-notifications-read-request", result="api-marked"),
    ]
