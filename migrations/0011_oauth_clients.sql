-- The applications that sign people in through Keystead (OpenID Connect relying parties)
-- and the gateways that introspect its credentials. `id` is the public client_id; a
-- confidential client's secret is stored only as its SHA-256 (it is a random 256-bit
-- token, so a slow hash adds nothing), shown once when made or rotated.
CREATE TABLE oauth_clients (
    id                        TEXT PRIMARY KEY,
    name                      TEXT NOT NULL,
    secret_hash               BLOB UNIQUE,                 -- NULL for a public client
    public                    INTEGER NOT NULL CHECK (public IN (0, 1)),
    trusted                   INTEGER NOT NULL CHECK (trusted IN (0, 1)),  -- no consent page
    introspect                INTEGER NOT NULL DEFAULT 0 CHECK (introspect IN (0, 1)),
    tenant_id                 TEXT REFERENCES tenants (id), -- only members of this tenant
    redirect_uris             TEXT NOT NULL,               -- JSON array of exact URIs
    post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]',  -- JSON array of exact URIs
    id_token_alg              TEXT NOT NULL DEFAULT 'RS256' CHECK (id_token_alg IN ('RS256', 'ES256', 'EdDSA')),
    status                    TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    disabled_reason           TEXT,
    created_at                INTEGER NOT NULL,
    updated_at                INTEGER NOT NULL,
    secret_rotated_at         INTEGER,
    CHECK ((public = 1) = (secret_hash IS NULL))
) STRICT;
CREATE INDEX oauth_clients_by_created ON oauth_clients (created_at, id);
