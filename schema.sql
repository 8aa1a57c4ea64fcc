-- Keystead schema, version 1. Changes after the first release are appended as
-- migrations/NNNN_name.sql steps; this file is never edited once released.
-- Times are INTEGER unix seconds (UTC); ids are random UUIDs stored as text;
-- tokens and keys are stored only as SHA-256 digests (BLOB).

CREATE TABLE tenants (
    id              TEXT PRIMARY KEY,
    slug            TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleted')),
    plan            TEXT NOT NULL DEFAULT 'free',
    max_seats       INTEGER CHECK (max_seats IS NULL OR max_seats > 0),
    provider_key    BLOB,      -- AES-256-GCM ciphertext (nonce || sealed), never the raw key
    provider_key_hint TEXT,    -- last 4 characters, shown instead of the key
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX tenants_by_created ON tenants (created_at, id);
CREATE INDEX tenants_by_status ON tenants (status, created_at, id);

CREATE TABLE portal_users (
    id                TEXT PRIMARY KEY,
    email             TEXT NOT NULL UNIQUE,  -- trimmed and lower-cased
    name              TEXT NOT NULL DEFAULT '',
    password_hash     TEXT,                  -- argon2id PHC string; NULL until first activation
    email_verified_at INTEGER,
    status            TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled', 'deleted')),
    last_tenant_id    TEXT REFERENCES tenants (id),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    last_login_at     INTEGER
) STRICT;
CREATE INDEX portal_users_by_created ON portal_users (created_at, id);
CREATE INDEX portal_users_by_status ON portal_users (status, created_at, id);
-- Invited, never activated accounts, counted by the operators' stats.
CREATE INDEX portal_users_invited ON portal_users (created_at) WHERE status = 'active' AND password_hash IS NULL;

CREATE TABLE memberships (
    tenant_id          TEXT NOT NULL REFERENCES tenants (id),
    user_id            TEXT NOT NULL REFERENCES portal_users (id),
    role               TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    status             TEXT NOT NULL CHECK (status IN ('invited', 'active', 'removed', 'disabled')),
    disabled_by_tenant INTEGER NOT NULL DEFAULT 0 CHECK (disabled_by_tenant IN (0, 1)),
    -- The status a tenant's deletion took away, given back by its restore; NULL otherwise.
    status_before_tenant_deletion TEXT CHECK (status_before_tenant_deletion IN ('invited', 'active')),
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX memberships_by_user ON memberships (user_id, tenant_id);
CREATE INDEX memberships_by_tenant_created ON memberships (tenant_id, created_at, user_id);

-- Single-use links: activation, password reset, email verification, email change.
-- A newer token of the same kind for the same account (and tenant) supersedes the older
-- ones by moving their expires_at to its creation time, so "live" is one rule:
-- used_at IS NULL AND expires_at > now.
CREATE TABLE tokens (
    hash       BLOB PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('activation', 'reset', 'verify_email', 'change_email')),
    user_id    TEXT NOT NULL REFERENCES portal_users (id),
    tenant_id  TEXT REFERENCES tenants (id),  -- the inviting tenant of an activation token
    new_email  TEXT,                          -- the address a change_email token confirms
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;
CREATE INDEX tokens_by_user ON tokens (user_id, kind, created_at);

CREATE TABLE keys (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    hash         BLOB NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,     -- first 12 characters of the key, for recognising it
    name         TEXT NOT NULL,
    scopes       TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings
    meta         TEXT,                        -- JSON object or NULL
    created_at   INTEGER NOT NULL,
    created_by   TEXT REFERENCES portal_users (id),
    expires_at   INTEGER,
    revoked_at   INTEGER,
    last_used_at INTEGER
) STRICT;
CREATE INDEX keys_by_tenant ON keys (tenant_id, created_at, id);
CREATE INDEX keys_unrevoked ON keys (expires_at) WHERE revoked_at IS NULL;

CREATE TABLE admins (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    last_login_at INTEGER
) STRICT;
CREATE INDEX admins_by_created ON admins (created_at, id);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    hash         BLOB NOT NULL UNIQUE,
    realm        TEXT NOT NULL CHECK (realm IN ('portal', 'admin')),
    user_id      TEXT REFERENCES portal_users (id),
    admin_id     TEXT REFERENCES admins (id),
    tenant_id    TEXT REFERENCES tenants (id),  -- the tenant a portal session acts in
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,              -- absolute lifetime
    idle_timeout INTEGER NOT NULL,              -- seconds without use before it lapses
    revoked_at   INTEGER,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT '',
    CHECK ((realm = 'portal' AND user_id IS NOT NULL AND admin_id IS NULL AND tenant_id IS NOT NULL)
        OR (realm = 'admin' AND admin_id IS NOT NULL AND user_id IS NULL AND tenant_id IS NULL))
) STRICT;
CREATE INDEX sessions_by_user ON sessions (user_id, created_at, id) WHERE user_id IS NOT NULL;
CREATE INDEX sessions_by_tenant ON sessions (tenant_id, user_id) WHERE tenant_id IS NOT NULL;
CREATE INDEX sessions_by_admin ON sessions (admin_id) WHERE admin_id IS NOT NULL;
-- Counting live sessions (stats) without reading revoked and lapsed ones.
CREATE INDEX sessions_unrevoked ON sessions (realm, expires_at, last_seen_at, idle_timeout) WHERE revoked_at IS NULL;

CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,  -- order of writing; keyset pagination
    id          TEXT NOT NULL UNIQUE,
    at          INTEGER NOT NULL,
    actor_type  TEXT NOT NULL CHECK (actor_type IN ('admin', 'user', 'system', 'anonymous')),
    actor_id    TEXT,
    tenant_id   TEXT,
    action      TEXT NOT NULL,
    target_type TEXT,
    target_id   TEXT,
    ip          TEXT,
    user_agent  TEXT,
    reason      TEXT,
    before      TEXT,  -- JSON object or NULL; never a secret
    after       TEXT
) STRICT;
-- Lists are newest first by (at, seq); each filter's index ends in (at, seq), so that a
-- filter, a time range and the order are all served by one index (store::audit).
CREATE INDEX audit_by_tenant ON audit_log (tenant_id, at, seq);
CREATE INDEX audit_by_actor ON audit_log (actor_id, at, seq);
CREATE INDEX audit_by_action ON audit_log (action, at, seq);
CREATE INDEX audit_by_at ON audit_log (at, seq);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- Mail waiting for, or done with, the SMTP server. A body carrying a single-use link is
-- scrubbed (the token cut out, scrubbed_at set) once it is delivered or its token is used
-- or expired; a message scrubbed before delivery is never sent.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    seq             INTEGER NOT NULL UNIQUE,  -- order of queueing; keyset pagination
    to_addr         TEXT NOT NULL,
    subject         TEXT NOT NULL,
    kind            TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    body_html       TEXT NOT NULL,
    token_hash      BLOB,     -- the token whose link the body carries, so the link can be scrubbed
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    scrubbed_at     INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE sent_at IS NULL AND scrubbed_at IS NULL;
CREATE INDEX outbox_unscrubbed ON outbox (token_hash) WHERE scrubbed_at IS NULL AND token_hash IS NOT NULL;

CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    private_key BLOB NOT NULL,   -- AES-256-GCM ciphertext of the PKCS#8 document
    public_key  BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    retired_at  INTEGER
) STRICT;
