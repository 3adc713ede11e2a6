-- Vouches ("I know this person"), by members here or elsewhere, verified before
-- they are kept; a revoked one stays, marked, so a late copy cannot revive it.
CREATE TABLE vouches (
    iri TEXT COLLATE "C" PRIMARY KEY,
    issuer_iri TEXT COLLATE "C" NOT NULL,
    subject_iri TEXT COLLATE "C" NOT NULL,
    valid_from TEXT COLLATE "C" NOT NULL,
    document TEXT COLLATE "C" NOT NULL,
    received_at TEXT COLLATE "C" NOT NULL,
    revoked_at TEXT COLLATE "C"
);
CREATE INDEX vouches_subject ON vouches(subject_iri);
CREATE INDEX vouches_issuer ON vouches(issuer_iri);

-- An invite that carries a vouch: the member vouches for whoever signs up with it.
CREATE TABLE invite_vouchers (
    invite_id TEXT COLLATE "C" PRIMARY KEY REFERENCES invites(id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members(id) ON DELETE CASCADE
);

-- Public questions are the listing replies; this is what a question adds: the
-- id the client API uses, the author's relay (an Announce) that spreads it, and
-- who hid it ('author' or 'moderator', with listing_replies.hidden_at).
CREATE TABLE listing_questions (
    iri TEXT COLLATE "C" PRIMARY KEY REFERENCES listing_replies(iri) ON DELETE CASCADE,
    id TEXT COLLATE "C" NOT NULL UNIQUE,
    relay_iri TEXT COLLATE "C" UNIQUE,
    hidden_by TEXT COLLATE "C"
);
INSERT INTO listing_questions (iri, id) SELECT iri, substr(md5(random()::text || iri), 1, 24)
    FROM listing_replies;

-- The listing author's answer to a question (one per question; a new one replaces it).
CREATE TABLE listing_answers (
    question_iri TEXT COLLATE "C" PRIMARY KEY REFERENCES listing_replies(iri) ON DELETE CASCADE,
    iri TEXT COLLATE "C" NOT NULL UNIQUE,
    author_iri TEXT COLLATE "C" NOT NULL,
    content TEXT COLLATE "C" NOT NULL,
    published TEXT COLLATE "C" NOT NULL,
    document TEXT COLLATE "C" NOT NULL
);
