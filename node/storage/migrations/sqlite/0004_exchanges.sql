-- Exchanges between members (here or on other nodes), their messages,
-- members' notifications, and reputation attestations.

CREATE TABLE exchanges (
    id TEXT PRIMARY KEY,
    proposal_iri TEXT NOT NULL,
    listing_seq INTEGER REFERENCES listings(seq) ON DELETE SET NULL,
    proposer_iri TEXT NOT NULL,
    responder_iri TEXT NOT NULL,
    mode TEXT NOT NULL,
    state TEXT NOT NULL,
    -- The offer awaiting an answer (while negotiating) and who sent it.
    pending_offer_iri TEXT,
    pending_offer_role TEXT,
    -- The Agreement under negotiation, and once agreed, the final one (both proofs).
    agreement_iri TEXT UNIQUE,
    agreement TEXT,
    quantity INTEGER NOT NULL DEFAULT 1,
    starts_at TEXT,
    ends_at TEXT,
    -- Whether this exchange currently holds quantity or dates of its listing.
    holds_availability INTEGER NOT NULL DEFAULT 0,
    reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX exchanges_proposer ON exchanges(proposer_iri, updated_at);
CREATE INDEX exchanges_responder ON exchanges(responder_iri, updated_at);
CREATE INDEX exchanges_listing ON exchanges(listing_seq, holds_availability);

-- Every Offer of a negotiation, so counter-offers and answers find their exchange.
CREATE TABLE exchange_offers (
    offer_iri TEXT PRIMARY KEY,
    exchange_id TEXT NOT NULL REFERENCES exchanges(id) ON DELETE CASCADE,
    agreement_iri TEXT NOT NULL,
    sender_role TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- The exchange's history: every activity applied, in order, never rewritten.
CREATE TABLE exchange_events (
    seq INTEGER PRIMARY KEY,
    exchange_id TEXT NOT NULL REFERENCES exchanges(id) ON DELETE CASCADE,
    activity_iri TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    actor_iri TEXT NOT NULL,
    role TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    content TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX exchange_events_exchange ON exchange_events(exchange_id, seq);

-- Private messages between the two parties of an exchange.
CREATE TABLE exchange_messages (
    iri TEXT PRIMARY KEY,
    exchange_id TEXT NOT NULL REFERENCES exchanges(id) ON DELETE CASCADE,
    author_iri TEXT NOT NULL,
    content TEXT NOT NULL,
    published TEXT NOT NULL,
    document TEXT NOT NULL
);
CREATE INDEX exchange_messages_exchange ON exchange_messages(exchange_id, published);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    exchange_id TEXT,
    summary TEXT NOT NULL,
    created_at TEXT NOT NULL,
    read_at TEXT
);
CREATE INDEX notifications_member ON notifications(member_id, id);

-- Verified reputation attestations (W3C VC 2.0), local and received.
CREATE TABLE attestations (
    iri TEXT PRIMARY KEY,
    issuer_iri TEXT NOT NULL,
    subject_iri TEXT NOT NULL,
    agreement_iri TEXT NOT NULL,
    issuer_role TEXT NOT NULL,
    subject_role TEXT NOT NULL,
    rating INTEGER NOT NULL,
    comment TEXT,
    valid_from TEXT NOT NULL,
    supersedes TEXT,
    document TEXT NOT NULL,
    received_at TEXT NOT NULL,
    withdrawn_at TEXT
);
CREATE INDEX attestations_subject ON attestations(subject_iri);
CREATE INDEX attestations_issuer ON attestations(issuer_iri, agreement_iri);
