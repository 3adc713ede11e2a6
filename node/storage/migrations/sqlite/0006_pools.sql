-- Pooled pledges: pools (crowdfunding, group buys, shared purchases) and the
-- pledges towards them. The proposer's node counts a local pool's pledges and
-- settles it at the deadline; a pledger's node keeps its members' pledges to
-- remote pools and the verified outcome it received.

CREATE TABLE pools (
    listing_iri TEXT PRIMARY KEY,
    listing_seq INTEGER REFERENCES listings(seq) ON DELETE CASCADE,
    -- 1: this node is the proposer's and counts the pledges.
    local INTEGER NOT NULL,
    author_iri TEXT NOT NULL,
    goal_kind TEXT NOT NULL,
    -- Decimal strings, as on the wire: amounts never pass through floats.
    goal_amount TEXT NOT NULL,
    unit TEXT NOT NULL,
    currency TEXT,
    maximum_pledge TEXT,
    deadline TEXT NOT NULL,
    state TEXT NOT NULL,
    -- The signed PoolOutcome once the pool closed (made here, or received and verified).
    outcome_iri TEXT,
    outcome TEXT,
    settled_at TEXT,
    -- A worker settling the pool holds it until then; a dead worker's claim lapses.
    claimed_until TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX pools_due ON pools(local, state, deadline);

CREATE TABLE pool_pledges (
    id TEXT PRIMARY KEY,
    iri TEXT NOT NULL UNIQUE,
    offer_iri TEXT NOT NULL UNIQUE,
    pool_iri TEXT NOT NULL REFERENCES pools(listing_iri) ON DELETE CASCADE,
    pledger_iri TEXT NOT NULL,
    -- The pledging member, when they are a member of this node.
    member_id INTEGER REFERENCES members(id) ON DELETE SET NULL,
    amount TEXT NOT NULL,
    -- live, withdrawn, committed, released or refused.
    state TEXT NOT NULL,
    reason TEXT,
    -- The signed Pledge.
    document TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX pool_pledges_pool ON pool_pledges(pool_iri, state);
CREATE INDEX pool_pledges_pledger ON pool_pledges(pledger_iri, pool_iri);
CREATE INDEX pool_pledges_member ON pool_pledges(member_id, created_at);
