-- Passkeys (WebAuthn credentials) as a second factor (API.md "Second factor"), several per
-- person. Nothing here is secret: the public key verifies, it cannot sign. `sign_count` is
-- the authenticator's counter at the last use; a use whose counter does not grow is refused
-- (a cloned authenticator), unless the authenticator keeps none (always 0).
CREATE TABLE passkeys (
    id            TEXT PRIMARY KEY,
    realm         TEXT NOT NULL CHECK (realm IN ('portal', 'admin')),
    owner_id      TEXT NOT NULL,
    credential_id BLOB NOT NULL UNIQUE,
    public_key    BLOB NOT NULL,          -- the COSE_Key as registered
    algorithm     TEXT NOT NULL CHECK (algorithm IN ('ES256', 'EdDSA')),
    sign_count    INTEGER NOT NULL,
    name          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
) STRICT;
CREATE INDEX passkeys_by_owner ON passkeys (realm, owner_id);

-- A registration in progress: the challenge handed to the browser, for five minutes and
-- one attempt, and only for the person who started it.
CREATE TABLE passkey_registrations (
    id         TEXT PRIMARY KEY,
    realm      TEXT NOT NULL CHECK (realm IN ('portal', 'admin')),
    owner_id   TEXT NOT NULL,
    challenge  BLOB NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;
CREATE INDEX passkey_registrations_by_expiry ON passkey_registrations (expires_at);

-- The challenge a passkey must sign to pass the second step of this sign-in (NULL when
-- the person has no passkey). It lives and dies with its mfa_token.
ALTER TABLE mfa_challenges ADD COLUMN passkey_challenge BLOB;
