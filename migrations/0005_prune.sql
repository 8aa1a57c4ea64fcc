-- Indexes for the pruner (src/maintenance.rs), so that each of its batches reads only
-- rows it deletes.
-- When a session ended (its lifetime, its idle timeout or its revocation, whichever came
-- first); store::sessions::ENDED_AT spells the same expression.
CREATE INDEX sessions_by_end ON sessions (min(expires_at, last_seen_at + idle_timeout, coalesce(revoked_at, expires_at)));
CREATE INDEX tokens_by_expiry ON tokens (expires_at);
-- Every message that names a token, scrubbed or not: a token goes only once no message does.
CREATE INDEX outbox_by_token ON outbox (token_hash) WHERE token_hash IS NOT NULL;
-- Messages done with: delivered, or never to be sent (both set scrubbed_at).
CREATE INDEX outbox_done ON outbox (scrubbed_at) WHERE scrubbed_at IS NOT NULL;
