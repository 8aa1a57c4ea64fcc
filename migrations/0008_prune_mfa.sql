-- The pruner deletes second-step challenges a day after they expired (used or not):
-- this index lets it find them without reading the live ones.
CREATE INDEX mfa_challenges_by_expiry ON mfa_challenges (expires_at);
