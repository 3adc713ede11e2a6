-- Replies to local listings from anywhere in the fediverse (a Mastodon user
-- answering a listing, say), kept for the listing's author.
CREATE TABLE listing_replies (
    iri TEXT PRIMARY KEY,
    listing_seq INTEGER NOT NULL REFERENCES listings(seq) ON DELETE CASCADE,
    author_iri TEXT NOT NULL,
    content TEXT NOT NULL,
    published TEXT NOT NULL,
    document TEXT NOT NULL,
    hidden_at TEXT
);
CREATE INDEX listing_replies_listing ON listing_replies(listing_seq, published);
