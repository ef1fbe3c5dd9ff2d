-- Gatehouse schema version 5 (PostgreSQL): the OpenID Connect provider (issue 14), as
-- migrations/sqlite/0005.
--
-- Secrets (client secrets, authorization codes, access and refresh tokens) are stored as
-- the hex SHA-256 of each, never themselves. Signing keys are stored whole so that every
-- node signs with the same keys.

CREATE TABLE oidc_clients (
    id                        TEXT        NOT NULL PRIMARY KEY,
    name                      TEXT        NOT NULL,
    secret_hash               TEXT,
    redirect_uris             TEXT[]      NOT NULL DEFAULT '{}',
    post_logout_redirect_uris TEXT[]      NOT NULL DEFAULT '{}',
    public                    BOOLEAN     NOT NULL,
    first_party               BOOLEAN     NOT NULL,
    scopes                    TEXT[]      NOT NULL DEFAULT '{}',
    service_token             TEXT,
    created                   TIMESTAMPTZ NOT NULL,
    revoked                   TIMESTAMPTZ,
    CHECK (public OR secret_hash IS NOT NULL)
);

CREATE TABLE oidc_keys (
    kid          TEXT        NOT NULL PRIMARY KEY,
    alg          TEXT        NOT NULL CHECK (alg IN ('RS256', 'EdDSA')),
    private_key  TEXT        NOT NULL,
    public_jwk   TEXT        NOT NULL,
    created      TIMESTAMPTZ NOT NULL,
    sign_from    TIMESTAMPTZ NOT NULL,
    retire_after TIMESTAMPTZ
);

CREATE TABLE oidc_codes (
    code_hash      TEXT        NOT NULL PRIMARY KEY,
    client_id      TEXT        NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    user_id        BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri   TEXT        NOT NULL,
    code_challenge TEXT,
    nonce          TEXT,
    scope          TEXT        NOT NULL,
    auth_time      TIMESTAMPTZ NOT NULL,
    expires        TIMESTAMPTZ NOT NULL,
    used           BOOLEAN     NOT NULL DEFAULT FALSE
);
CREATE INDEX oidc_codes_expires ON oidc_codes (expires);

CREATE TABLE oidc_tokens (
    token_hash TEXT        NOT NULL PRIMARY KEY,
    kind       TEXT        NOT NULL CHECK (kind IN ('access', 'refresh')),
    client_id  TEXT        NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    user_id    BIGINT      REFERENCES users (id) ON DELETE CASCADE,
    scope      TEXT        NOT NULL,
    family     TEXT        NOT NULL,
    privileges TEXT[]      NOT NULL DEFAULT '{}',
    created    TIMESTAMPTZ NOT NULL,
    expires    TIMESTAMPTZ NOT NULL,
    revoked    BOOLEAN     NOT NULL DEFAULT FALSE,
    used       BOOLEAN     NOT NULL DEFAULT FALSE
);
CREATE INDEX oidc_tokens_family ON oidc_tokens (family);
CREATE INDEX oidc_tokens_user ON oidc_tokens (user_id);
CREATE INDEX oidc_tokens_client ON oidc_tokens (client_id);
CREATE INDEX oidc_tokens_expires ON oidc_tokens (expires);
