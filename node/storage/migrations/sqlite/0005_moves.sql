-- Moving accounts between nodes: a member's aliases and forwarding address, and
-- the verified old-to-new links this node knows, so reputation follows a move.
ALTER TABLE members ADD COLUMN also_known_as TEXT NOT NULL DEFAULT '[]';
ALTER TABLE members ADD COLUMN moved_to TEXT;

CREATE TABLE actor_moves (
    old_iri TEXT PRIMARY KEY,
    new_iri TEXT NOT NULL,
    verified_at TEXT NOT NULL
);
CREATE INDEX actor_moves_new ON actor_moves(new_iri);

-- A member's public answer to an attestation about them (one per attestation).
CREATE TABLE attestation_replies (
    attestation_iri TEXT PRIMARY KEY,
    note_iri TEXT NOT NULL UNIQUE,
    author_iri TEXT NOT NULL,
    content TEXT NOT NULL,
    published TEXT NOT NULL
);
