-- A counter that moves whenever something reputation is computed from changes:
-- attestations, vouches, and the members that seed the trust graph. The
-- PostgreSQL twin of sqlite/0012_reputation_inputs.sql (conventions in 0001).
CREATE TABLE reputation_inputs (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO reputation_inputs (id, version) VALUES (1, 0);

CREATE FUNCTION move_reputation_inputs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE reputation_inputs SET version = version + 1;
    RETURN NULL;
END;
$$;

-- Once per statement: a statement changing many rows moves the counter once.
CREATE TRIGGER attestations_move_reputation
AFTER INSERT OR UPDATE OR DELETE ON attestations
FOR EACH STATEMENT EXECUTE FUNCTION move_reputation_inputs();
CREATE TRIGGER vouches_move_reputation
AFTER INSERT OR UPDATE OR DELETE ON vouches
FOR EACH STATEMENT EXECUTE FUNCTION move_reputation_inputs();
CREATE TRIGGER members_move_reputation
AFTER INSERT OR UPDATE OF username, suspended_at OR DELETE ON members
FOR EACH STATEMENT EXECUTE FUNCTION move_reputation_inputs();
