-- Gatehouse schema version 7 (PostgreSQL): remembered consent and the log in time of
-- tokens, as migrations/sqlite/0007.

CREATE TABLE oidc_consents (
    user_id   BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id TEXT        NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    scopes    TEXT[]      NOT NULL DEFAULT '{}',
    granted   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
CREATE INDEX oidc_consents_client ON oidc_consents (client_id);

ALTER TABLE oidc_tokens ADD COLUMN auth_time TIMESTAMPTZ;
