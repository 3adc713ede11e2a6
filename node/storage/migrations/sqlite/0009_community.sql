-- Moderation. Community settings an operator changes in the browser live in
-- node_settings (keys "community.*"), over the file's defaults.
--
-- A report about a listing, attestation, member or question, here or on another
-- node: by a member of this node (reporter_member_id) or by another node's
-- moderators (a Flag; flag_iri, so a replayed Flag is one report). The operator
-- resolves or dismisses it, and may forward one about remote content to its
-- node as a Flag (forwarded_at).
CREATE TABLE reports (
    id TEXT PRIMARY KEY,
    reporter_member_id INTEGER REFERENCES members(id) ON DELETE SET NULL,
    reporter_iri TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('listing', 'attestation', 'member', 'question')),
    target_iri TEXT NOT NULL,
    -- Whose content it is: the listing's or question's author, the attestation's issuer.
    target_actor_iri TEXT NOT NULL,
    reason TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved', 'dismissed')),
    resolution TEXT NOT NULL DEFAULT '',
    resolved_at TEXT,
    resolved_by INTEGER REFERENCES members(id) ON DELETE SET NULL,
    forwarded_at TEXT,
    flag_iri TEXT UNIQUE
);
CREATE INDEX reports_state ON reports(state, created_at);
CREATE INDEX reports_target ON reports(target_iri);

-- What operators did and why: hides, removals, suspensions, blocks, forwards.
CREATE TABLE moderation_actions (
    id TEXT PRIMARY KEY,
    action TEXT NOT NULL,
    -- An IRI (listing, question, actor) or, for a block, a host.
    target TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    report_id TEXT REFERENCES reports(id) ON DELETE SET NULL,
    operator_id INTEGER REFERENCES members(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX moderation_actions_target ON moderation_actions(target, created_at);
