-- Vouches ("I know this person"), by members here or elsewhere, verified before
-- they are kept; a revoked one stays, marked, so a late copy cannot revive it.
CREATE TABLE vouches (
    iri TEXT PRIMARY KEY,
    issuer_iri TEXT NOT NULL,
    subject_iri TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    document TEXT NOT NULL,
    received_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX vouches_subject ON vouches(subject_iri);
CREATE INDEX vouches_issuer ON vouches(issuer_iri);

-- An invite that carries a vouch: the member vouches for whoever signs up with it.
CREATE TABLE invite_vouchers (
    invite_id TEXT PRIMARY KEY REFERENCES invites(id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE
);

-- Public questions are the listing replies; this is what a question adds: the
-- id the client API uses, the author's relay (an Announce) that spreads it, and
-- who hid it ('author' or 'moderator', with listing_replies.hidden_at).
CREATE TABLE listing_questions (
    iri TEXT PRIMARY KEY REFERENCES listing_replies(iri) ON DELETE CASCADE,
    id TEXT NOT NULL UNIQUE,
    relay_iri TEXT UNIQUE,
    hidden_by TEXT
);
INSERT INTO listing_questions (iri, id) SELECT iri, lower(hex(randomblob(12))) FROM listing_replies;

-- The listing author's answer to a question (one per question; a new one replaces it).
CREATE TABLE listing_answers (
    question_iri TEXT PRIMARY KEY REFERENCES listing_replies(iri) ON DELETE CASCADE,
    iri TEXT NOT NULL UNIQUE,
    author_iri TEXT NOT NULL,
    content TEXT NOT NULL,
    published TEXT NOT NULL,
    document TEXT NOT NULL
);
