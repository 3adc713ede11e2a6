-- Replies to local listings from anywhere in the fediverse (a Mastodon user
-- answering a listing, say), kept for the listing's author.
CREATE TABLE listing_replies (
    iri TEXT COLLATE "C" PRIMARY KEY,
    listing_seq BIGINT NOT NULL REFERENCES listings(seq) ON DELETE CASCADE,
    author_iri TEXT COLLATE "C" NOT NULL,
    content TEXT COLLATE "C" NOT NULL,
    published TEXT COLLATE "C" NOT NULL,
    document TEXT COLLATE "C" NOT NULL,
    hidden_at TEXT COLLATE "C"
);
CREATE INDEX listing_replies_listing ON listing_replies(listing_seq, published);
