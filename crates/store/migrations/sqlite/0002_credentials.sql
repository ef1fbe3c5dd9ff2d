-- Gatehouse schema version 2 (SQLite): credentials and single-use links.
--
-- Tokens themselves are never stored, only the hex SHA-256 of each (`token_hash`). Times are
-- the same fixed-width RFC 3339 text as in 0001, so `expires > ?` compares times.

-- Sessions (cookie), bearer tokens (log in) and service tokens (repository applications).
-- Sessions and bearer tokens belong to a user and go with them; a service token has a name,
-- unique among service tokens, and a JSON list of privileges.
CREATE TABLE credentials (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT    NOT NULL CHECK (kind IN ('session', 'bearer', 'service')),
    token_hash TEXT    NOT NULL UNIQUE,
    user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT,
    privileges TEXT    NOT NULL DEFAULT '[]',
    created    TEXT    NOT NULL,
    expires    TEXT,
    CHECK (kind = 'service' OR user_id IS NOT NULL),
    CHECK (kind <> 'service' OR name IS NOT NULL)
) STRICT;
CREATE UNIQUE INDEX credentials_service_name ON credentials (name) WHERE kind = 'service';
CREATE INDEX credentials_by_user ON credentials (user_id);

-- Email confirmation and password reset links: used once (the row is deleted), valid until
-- `expires`.
CREATE TABLE links (
    token_hash TEXT    PRIMARY KEY,
    purpose    TEXT    NOT NULL CHECK (purpose IN ('confirm', 'reset')),
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created    TEXT    NOT NULL,
    expires    TEXT    NOT NULL
) STRICT;
CREATE INDEX links_by_user ON links (user_id);
