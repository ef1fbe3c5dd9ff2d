-- Gatehouse schema version 5 (SQLite): the OpenID Connect provider (issue 14).
--
-- Secrets (client secrets, authorization codes, access and refresh tokens) are stored as
-- the hex SHA-256 of each, never themselves. Signing keys are stored whole so that every
-- node signs with the same keys. Lists are JSON arrays, times fixed-width RFC 3339 text.

-- Relying parties. A public client has no secret (and must use PKCE S256).
CREATE TABLE oidc_clients (
    id                        TEXT    NOT NULL PRIMARY KEY,
    name                      TEXT    NOT NULL,
    secret_hash               TEXT,
    redirect_uris             TEXT    NOT NULL DEFAULT '[]',
    post_logout_redirect_uris TEXT    NOT NULL DEFAULT '[]',
    public                    INTEGER NOT NULL CHECK (public IN (0, 1)),
    first_party               INTEGER NOT NULL CHECK (first_party IN (0, 1)),
    scopes                    TEXT    NOT NULL DEFAULT '[]',
    service_token             TEXT,
    created                   TEXT    NOT NULL,
    revoked                   TEXT,
    CHECK (public = 1 OR secret_hash IS NOT NULL)
) STRICT;

-- Signing keys: published from `created`, used to sign from `sign_from`, published until
-- `retire_after` (set when a newer key takes over, past the lifetime of what it signed).
CREATE TABLE oidc_keys (
    kid          TEXT NOT NULL PRIMARY KEY,
    alg          TEXT NOT NULL CHECK (alg IN ('RS256', 'EdDSA')),
    private_key  TEXT NOT NULL,
    public_jwk   TEXT NOT NULL,
    created      TEXT NOT NULL,
    sign_from    TEXT NOT NULL,
    retire_after TEXT
) STRICT;

-- Authorization codes: single use (`used`), 60 s.
CREATE TABLE oidc_codes (
    code_hash      TEXT    NOT NULL PRIMARY KEY,
    client_id      TEXT    NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri   TEXT    NOT NULL,
    code_challenge TEXT,
    nonce          TEXT,
    scope          TEXT    NOT NULL,
    auth_time      TEXT    NOT NULL,
    expires        TEXT    NOT NULL,
    used           INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1))
) STRICT;
CREATE INDEX oidc_codes_expires ON oidc_codes (expires);

-- Access and refresh tokens. `family` is the chain of one authorization (the hash of its
-- code): a replayed code or a reused refresh token revokes the whole chain.
CREATE TABLE oidc_tokens (
    token_hash TEXT    NOT NULL PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('access', 'refresh')),
    client_id  TEXT    NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,
    scope      TEXT    NOT NULL,
    family     TEXT    NOT NULL,
    privileges TEXT    NOT NULL DEFAULT '[]',
    created    TEXT    NOT NULL,
    expires    TEXT    NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
    used       INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1))
) STRICT;
CREATE INDEX oidc_tokens_family ON oidc_tokens (family);
CREATE INDEX oidc_tokens_user ON oidc_tokens (user_id);
CREATE INDEX oidc_tokens_client ON oidc_tokens (client_id);
CREATE INDEX oidc_tokens_expires ON oidc_tokens (expires);
