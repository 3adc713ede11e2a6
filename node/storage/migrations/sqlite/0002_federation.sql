-- Federation: remote actors, follows, inbound activities, jobs, deliveries, policy.

-- Actors of other nodes, as last fetched (the cache behind key lookups).
CREATE TABLE remote_actors (
    iri TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    type TEXT NOT NULL,
    preferred_username TEXT,
    inbox TEXT NOT NULL,
    shared_inbox TEXT,
    followers TEXT,
    rsa_key_id TEXT,
    rsa_public_pem TEXT,
    document TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX remote_actors_host ON remote_actors(host);
CREATE UNIQUE INDEX remote_actors_rsa_key ON remote_actors(rsa_key_id);

-- Who follows whom. Either side may be local or remote; ids are actor IRIs.
CREATE TABLE follows (
    id TEXT PRIMARY KEY,
    follower_iri TEXT NOT NULL,
    followee_iri TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'rejected')),
    activity_iri TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (follower_iri, followee_iri)
);
CREATE INDEX follows_followee ON follows(followee_iri, state);

-- Every accepted inbound activity, stored before the 202; the id is unique so
-- a replayed activity is recognised.
CREATE TABLE inbox_activities (
    seq INTEGER PRIMARY KEY,
    iri TEXT NOT NULL UNIQUE,
    actor_iri TEXT NOT NULL,
    type TEXT NOT NULL,
    document TEXT NOT NULL,
    received_at TEXT NOT NULL,
    outcome TEXT,
    outcome_detail TEXT
);

-- Persisted background work with explicit states (new, running, done, retrying, failed).
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    locked_until TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX jobs_due ON jobs(state, next_attempt_at);

-- One row per activity and recipient inbox (shared inboxes de-duplicated).
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    activity_iri TEXT NOT NULL,
    actor_iri TEXT NOT NULL,
    inbox TEXT NOT NULL,
    host TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    locked_until TEXT,
    last_status INTEGER,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (activity_iri, inbox)
);
CREATE INDEX deliveries_due ON deliveries(state, next_attempt_at);
CREATE INDEX deliveries_host ON deliveries(host, state);

-- Per-host federation policy: block, or allow (used in allow-list mode).
CREATE TABLE host_policies (
    host TEXT PRIMARY KEY,
    policy TEXT NOT NULL CHECK (policy IN ('block', 'allow')),
    note TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);

-- Partner communities this node's community Group follows.
CREATE TABLE peers (
    host TEXT PRIMARY KEY,
    group_iri TEXT NOT NULL,
    created_at TEXT NOT NULL
);
