-- The OpenID Connect flow's state. Every token is stored as its SHA-256 only.

-- How a session was authenticated, for the ID token's `amr` (space-separated: pwd, otp,
-- hwk) and `auth_time` (the session's `created_at`, which a second step resets).
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';

-- Authorization codes: single-use, short-lived, bound to the client, the redirect URI and
-- the PKCE challenge. `redeemed_grant` is set on first use; a code that comes back after
-- it revokes that grant (RFC 6749 §4.1.2).
CREATE TABLE oauth_codes (
    hash           BLOB PRIMARY KEY,
    client_id      TEXT NOT NULL REFERENCES oauth_clients (id),
    session_id     TEXT NOT NULL REFERENCES sessions (id),
    user_id        TEXT NOT NULL REFERENCES portal_users (id),
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    redirect_uri   TEXT NOT NULL,
    scope          TEXT NOT NULL,                 -- space-separated, sorted
    nonce          TEXT,
    code_challenge TEXT,                          -- S256 of the verifier, base64url
    auth_time      INTEGER NOT NULL,
    amr            TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    redeemed_at    INTEGER,
    redeemed_grant TEXT
) STRICT;
CREATE INDEX oauth_codes_by_expiry ON oauth_codes (expires_at);

-- What one redeemed code gave a client: the access it holds, its chain of refresh tokens
-- (with offline_access), and what revokes them all at once.
CREATE TABLE oauth_grants (
    id           TEXT PRIMARY KEY,
    client_id    TEXT NOT NULL REFERENCES oauth_clients (id),
    user_id      TEXT NOT NULL REFERENCES portal_users (id),
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    session_id   TEXT NOT NULL REFERENCES sessions (id),  -- the browser session it came from
    scope        TEXT NOT NULL,
    auth_time    INTEGER NOT NULL,
    amr          TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,               -- the refresh chain's absolute lifetime
    revoked_at   INTEGER
) STRICT;
CREATE INDEX oauth_grants_by_user ON oauth_grants (user_id, created_at) WHERE revoked_at IS NULL;
CREATE INDEX oauth_grants_by_tenant ON oauth_grants (tenant_id, user_id) WHERE revoked_at IS NULL;
CREATE INDEX oauth_grants_by_client ON oauth_grants (client_id) WHERE revoked_at IS NULL;
CREATE INDEX oauth_grants_by_session ON oauth_grants (session_id) WHERE revoked_at IS NULL;

-- Refresh tokens: each use replaces the token with a new one of the same grant; one that
-- comes back after its use revokes the grant (reuse detection).
CREATE TABLE oauth_refresh_tokens (
    hash       BLOB PRIMARY KEY,
    grant_id   TEXT NOT NULL REFERENCES oauth_grants (id),
    created_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;
CREATE INDEX oauth_refresh_tokens_by_grant ON oauth_refresh_tokens (grant_id);

-- Consent given to a client that is not trusted, per account and scope set; revocable
-- from /app/apps.
CREATE TABLE oauth_consents (
    user_id    TEXT NOT NULL REFERENCES portal_users (id),
    client_id  TEXT NOT NULL REFERENCES oauth_clients (id),
    scope      TEXT NOT NULL,                    -- space-separated, sorted
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX oauth_consents_by_client ON oauth_consents (client_id);
