-- A counter that moves whenever something reputation is computed from changes:
-- attestations, vouches, and the members that seed the trust graph (who they
-- are and whether they are suspended). Readers keep a computed trust graph
-- while the counter stands still, instead of reading every attestation and
-- recomputing on each page; the triggers make every writer, in any process,
-- move it in the same transaction as its change.
CREATE TABLE reputation_inputs (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO reputation_inputs (id, version) VALUES (1, 0);

CREATE TRIGGER attestations_insert_moves_reputation AFTER INSERT ON attestations
BEGIN UPDATE reputation_inputs SET version = version + 1; END;
CREATE TRIGGER attestations_update_moves_reputation AFTER UPDATE ON attestations
BEGIN UPDATE reputation_inputs SET version = version + 1; END;
CREATE TRIGGER attestations_delete_moves_reputation AFTER DELETE ON attestations
BEGIN UPDATE reputation_inputs SET version = version + 1; END;

CREATE TRIGGER vouches_insert_moves_reputation AFTER INSERT ON vouches
BEGIN UPDATE reputation_inputs SET version = version + 1; END;
CREATE TRIGGER vouches_update_moves_reputation AFTER UPDATE ON vouches
BEGIN UPDATE reputation_inputs SET version = version + 1; END;
CREATE TRIGGER vouches_delete_moves_reputation AFTER DELETE ON vouches
BEGIN UPDATE reputation_inputs SET version = version + 1; END;

CREATE TRIGGER members_insert_moves_reputation AFTER INSERT ON members
BEGIN UPDATE reputation_inputs SET version = version + 1; END;
CREATE TRIGGER members_seed_update_moves_reputation
AFTER UPDATE OF username, suspended_at ON members
BEGIN UPDATE reputation_inputs SET version = version + 1; END;
CREATE TRIGGER members_delete_moves_reputation AFTER DELETE ON members
BEGIN UPDATE reputation_inputs SET version = version + 1; END;
