-- Revocations of credentials (vouches, attestations) that arrived before the
-- credential itself: deliveries run concurrently and are retried, so the
-- Delete can overtake the Create. The Create that comes later is then kept as
-- revoked. Only the deleting actor's own word is recorded (issuer_iri), and it
-- applies only to a credential of that issuer; rows older than the retention
-- window are dropped when a new one is recorded. The PostgreSQL twin of
-- sqlite/0011_credential_tombstones.sql (conventions in 0001).
CREATE TABLE credential_tombstones (
    iri TEXT COLLATE "C" NOT NULL,
    issuer_iri TEXT COLLATE "C" NOT NULL,
    deleted_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (iri, issuer_iri)
);
CREATE INDEX credential_tombstones_deleted ON credential_tombstones(deleted_at);
