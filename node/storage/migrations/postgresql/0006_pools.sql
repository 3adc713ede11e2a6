-- Pooled pledges: pools (crowdfunding, group buys, shared purchases) and the
-- pledges towards them. The PostgreSQL twin of sqlite/0006_pools.sql
-- (conventions in 0001).

CREATE TABLE pools (
    listing_iri TEXT COLLATE "C" PRIMARY KEY,
    listing_seq BIGINT REFERENCES listings(seq) ON DELETE CASCADE,
    -- 1: this node is the proposer's and counts the pledges.
    local INTEGER NOT NULL,
    author_iri TEXT COLLATE "C" NOT NULL,
    goal_kind TEXT COLLATE "C" NOT NULL,
    -- Decimal strings, as on the wire: amounts never pass through floats.
    goal_amount TEXT COLLATE "C" NOT NULL,
    unit TEXT COLLATE "C" NOT NULL,
    currency TEXT COLLATE "C",
    maximum_pledge TEXT COLLATE "C",
    deadline TEXT COLLATE "C" NOT NULL,
    state TEXT COLLATE "C" NOT NULL,
    -- The signed PoolOutcome once the pool closed (made here, or received and verified).
    outcome_iri TEXT COLLATE "C",
    outcome TEXT COLLATE "C",
    settled_at TEXT COLLATE "C",
    -- A worker settling the pool holds it until then; a dead worker's claim lapses.
    claimed_until TEXT COLLATE "C",
    created_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX pools_due ON pools(local, state, deadline);

CREATE TABLE pool_pledges (
    id TEXT COLLATE "C" PRIMARY KEY,
    iri TEXT COLLATE "C" NOT NULL UNIQUE,
    offer_iri TEXT COLLATE "C" NOT NULL UNIQUE,
    pool_iri TEXT COLLATE "C" NOT NULL REFERENCES pools(listing_iri) ON DELETE CASCADE,
    pledger_iri TEXT COLLATE "C" NOT NULL,
    -- The pledging member, when they are a member of this node.
    member_id BIGINT REFERENCES members(id) ON DELETE SET NULL,
    amount TEXT COLLATE "C" NOT NULL,
    -- live, withdrawn, committed, released or refused.
    state TEXT COLLATE "C" NOT NULL,
    reason TEXT COLLATE "C",
    -- The signed Pledge.
    document TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX pool_pledges_pool ON pool_pledges(pool_iri, state);
CREATE INDEX pool_pledges_pledger ON pool_pledges(pledger_iri, pool_iri);
CREATE INDEX pool_pledges_member ON pool_pledges(member_id, created_at);
