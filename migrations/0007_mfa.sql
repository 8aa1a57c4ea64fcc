-- Second factors of portal accounts and operators (API.md "Second factor").
--
-- A factor belongs to a portal account or an operator: `realm` says which table `owner_id`
-- names ('portal': portal_users, 'admin': admins), as sessions do.

-- One TOTP authenticator per person. The secret is AES-256-GCM ciphertext under the master
-- key, bound to its owner; it is never shown again after enrolment. `last_step` is the RFC
-- 6238 time step of the last code accepted: a code is accepted only for a later step
-- (`UPDATE … WHERE last_step < ?`), so no code works twice, even concurrently.
CREATE TABLE totp_factors (
    realm        TEXT NOT NULL CHECK (realm IN ('portal', 'admin')),
    owner_id     TEXT NOT NULL,
    secret       BLOB NOT NULL,
    confirmed_at INTEGER,              -- NULL while the enrolment is pending
    last_step    INTEGER NOT NULL DEFAULT -1,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (realm, owner_id)
) STRICT, WITHOUT ROWID;

-- Ten single-use recovery codes per person, as SHA-256 (they carry 80 random bits, so a
-- fast hash is enough). A new set replaces the old one.
CREATE TABLE recovery_codes (
    hash       BLOB PRIMARY KEY,
    realm      TEXT NOT NULL CHECK (realm IN ('portal', 'admin')),
    owner_id   TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;
CREATE INDEX recovery_codes_by_owner ON recovery_codes (realm, owner_id);

-- The second step of a sign-in: the `mfa_token` (SHA-256 only) a correct password earned,
-- for 5 minutes and one use. `tenant_id` is the tenant the login asked for; `invitation`
-- is the SHA-256 of the activation token when the password came with an invitation, whose
-- acceptance then waits for the second factor. Five wrong codes end it.
CREATE TABLE mfa_challenges (
    hash       BLOB PRIMARY KEY,
    realm      TEXT NOT NULL CHECK (realm IN ('portal', 'admin')),
    owner_id   TEXT NOT NULL,
    tenant_id  TEXT,
    invitation BLOB,
    failures   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;

-- A tenant owner's policy: every member needs a second factor.
ALTER TABLE tenants ADD COLUMN require_mfa INTEGER NOT NULL DEFAULT 0 CHECK (require_mfa IN (0, 1));
