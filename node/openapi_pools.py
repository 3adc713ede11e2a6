"""Operations of pooled pledges: a pool's progress, pledging and withdrawing."""

from __future__ import annotations

from node.openapi_paths import Endpoint

_LISTING = "/api/v1/listings/{listing_id}"


def pool_endpoints() -> list[Endpoint]:
    """GET the pool; POST a pledge (here or to another node's pool); DELETE it."""
    return [
        Endpoint("GET", f"{_LISTING}/pool", "getPool",
                 "A pool's goal, deadline, time left, progress and, once closed, its signed "
                 "outcome; with a token, also your pledges to it.", "pools",
                 result="api-pool", extra_errors=(401, 410, 422)),
        Endpoint("POST", f"{_LISTING}/pledges", "pledge",
                 "Pledge towards a pool here or on another node (look a remote one up "
                 "first); sent to the proposer's node, which counts it.", "pools",
                 scope="write", body="api-pool-pledge-request", status=201,
                 result="api-pool-pledge", extra_errors=(409, 410),
                 headers={"Location": {"description": "The pledge, for DELETE.",
                                       "schema": {"type": "string"}}}),
        Endpoint("DELETE", f"{_LISTING}/pledges/{{pledge_id}}", "withdrawPledge",
                 "Withdraw your live pledge before the deadline (Undo of its Offer).",
                 "pools", scope="write", result="api-pool-pledge", extra_errors=(409, 410)),
    ]
