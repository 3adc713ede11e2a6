-- Moving accounts between nodes: a member's aliases and forwarding address, and
-- the verified old-to-new links this node knows, so reputation follows a move.
ALTER TABLE members ADD COLUMN also_known_as TEXT COLLATE "C" NOT NULL DEFAULT '[]';
ALTER TABLE members ADD COLUMN moved_to TEXT COLLATE "C";

CREATE TABLE actor_moves (
    old_iri TEXT COLLATE "C" PRIMARY KEY,
    new_iri TEXT COLLATE "C" NOT NULL,
    verified_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX actor_moves_new ON actor_moves(new_iri);

-- A member's public answer to an attestation about them (one per attestation).
CREATE TABLE attestation_replies (
    attestation_iri TEXT COLLATE "C" PRIMARY KEY,
    note_iri TEXT COLLATE "C" NOT NULL UNIQUE,
    author_iri TEXT COLLATE "C" NOT NULL,
    content TEXT COLLATE "C" NOT NULL,
    published TEXT COLLATE "C" NOT NULL
);
