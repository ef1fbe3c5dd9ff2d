-- Gatehouse schema version 7 (SQLite): remembered consent and the log in time of tokens
-- (issue 14's gaps).
--
-- A user's consent to a third-party client, remembered so that the consent page is shown
-- only when the client asks for a scope the user has not granted it yet: one row per
-- (user, client) with every scope granted so far (a JSON array, in the provider's order).
-- Revoking the client drops its rows; so does `gatehouse clients forget-consent`.
CREATE TABLE oidc_consents (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id TEXT    NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
    scopes    TEXT    NOT NULL DEFAULT '[]',
    granted   TEXT    NOT NULL,
    PRIMARY KEY (user_id, client_id)
) STRICT;
CREATE INDEX oidc_consents_client ON oidc_consents (client_id);

-- When the user logged in (the session's start), carried from the code to every token of
-- its chain so that a refreshed ID token's `auth_time` does not move forward. NULL for the
-- client credentials grant (no user) and for tokens issued before this version.
ALTER TABLE oidc_tokens ADD COLUMN auth_time TEXT;
