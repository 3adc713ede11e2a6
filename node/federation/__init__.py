"""Federation: talking to other nodes. Outbound traffic goes through one
SSRF-guarded HTTP client; inbound activities are verified, persisted and then
processed by jobs; deliveries are a persisted state machine."""
