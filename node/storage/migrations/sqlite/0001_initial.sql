-- Members, access, listings, images, search and the outbox.
CREATE TABLE node_keys (
    name TEXT PRIMARY KEY,
    rsa_private_pem TEXT NOT NULL,
    ed25519_private_pem TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE node_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE members (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    password_hash TEXT,
    is_admin INTEGER NOT NULL DEFAULT 0,
    manually_approves_followers INTEGER NOT NULL DEFAULT 0,
    suspended_at TEXT,
    rsa_private_pem TEXT NOT NULL,
    ed25519_private_pem TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
    kind TEXT NOT NULL CHECK (kind IN ('api', 'session')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE INDEX tokens_member ON tokens(member_id);

CREATE TABLE invites (
    code_hash TEXT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    created_by INTEGER REFERENCES members(id) ON DELETE SET NULL,
    note TEXT NOT NULL DEFAULT '',
    max_uses INTEGER NOT NULL DEFAULT 1,
    uses INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT
);

CREATE TABLE images (
    id TEXT PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    media_type TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    size_bytes INTEGER NOT NULL,
    filename TEXT NOT NULL,
    thumbnail_filename TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);

-- Local and (later) federated listings share one table so search treats them alike.
CREATE TABLE listings (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    iri TEXT NOT NULL UNIQUE,
    author_iri TEXT NOT NULL,
    member_id INTEGER REFERENCES members(id) ON DELETE CASCADE,
    origin TEXT NOT NULL,
    purpose TEXT NOT NULL,
    mode TEXT NOT NULL,
    status TEXT NOT NULL,
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    price_amount REAL,
    price_currency TEXT,
    latitude REAL,
    longitude REAL,
    expires_at TEXT,
    published_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    fields TEXT NOT NULL,
    document TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX listings_member ON listings(member_id, seq);
CREATE INDEX listings_status_expiry ON listings(status, expires_at);
CREATE INDEX listings_geo ON listings(latitude, longitude);
CREATE INDEX listings_price ON listings(price_amount);

CREATE TABLE listing_categories (
    listing_seq INTEGER NOT NULL REFERENCES listings(seq) ON DELETE CASCADE,
    category TEXT NOT NULL,
    PRIMARY KEY (listing_seq, category)
);
CREATE INDEX listing_categories_category ON listing_categories(category);

CREATE TABLE listing_images (
    listing_seq INTEGER NOT NULL REFERENCES listings(seq) ON DELETE CASCADE,
    image_id TEXT NOT NULL REFERENCES images(id),
    position INTEGER NOT NULL,
    PRIMARY KEY (listing_seq, image_id)
);

CREATE VIRTUAL TABLE listings_fts USING fts5(
    title, content, categories,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Activities published by local actors, newest last; served as outboxes.
CREATE TABLE activities (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    iri TEXT NOT NULL UNIQUE,
    actor_iri TEXT NOT NULL,
    member_id INTEGER REFERENCES members(id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    object_iri TEXT,
    public INTEGER NOT NULL,
    document TEXT NOT NULL,
    published_at TEXT NOT NULL
);
CREATE INDEX activities_actor ON activities(actor_iri, seq);
