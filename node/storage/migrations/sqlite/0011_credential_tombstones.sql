-- Revocations of credentials (vouches, attestations) that arrived before the
-- credential itself: deliveries run concurrently and are retried, so the
-- Delete can overtake the Create. The Create that comes later is then kept as
-- revoked. Only the deleting actor's own word is recorded (issuer_iri), and it
-- applies only to a credential of that issuer; rows older than the retention
-- window are dropped when a new one is recorded.
CREATE TABLE credential_tombstones (
    iri TEXT NOT NULL,
    issuer_iri TEXT NOT NULL,
    deleted_at TEXT NOT NULL,
    PRIMARY KEY (iri, issuer_iri)
);
CREATE INDEX credential_tombstones_deleted ON credential_tombstones(deleted_at);
