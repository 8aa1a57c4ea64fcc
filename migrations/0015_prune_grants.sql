-- The pruner's index of grants (src/maintenance.rs): a grant goes a day after its
-- revocation, and at its expiry at the latest; store::oauth_grants::PRUNED_AT spells the
-- same expression. At its expiry at the latest, because it names its session, which the
-- pruner deletes 30 days after it ended, and a grant expires 30 days after that session's
-- sign-in: so a session never outlives the grants that name it.
CREATE INDEX oauth_grants_by_end ON oauth_grants (min(expires_at, coalesce(revoked_at + 86400, expires_at)));
