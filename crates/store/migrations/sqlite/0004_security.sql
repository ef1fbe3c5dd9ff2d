-- Gatehouse schema version 4 (SQLite): what holding under attack needs.
-- - users.skeleton, users.username_skeleton: the confusable skeletons of the email and the
--   username (Unicode TR39), filled by the
--   store on every write and for existing rows right after this migration; an index finds
--   a look-alike of a new address.
-- - throttle: token buckets of the log in throttle shared by every node (used on
--   PostgreSQL; a SQLite database has one node, which keeps them in memory).
-- - secrets: values every node must share, such as the key that signs known-device cookies.
ALTER TABLE users ADD COLUMN skeleton TEXT;
CREATE INDEX users_skeleton ON users (skeleton);
ALTER TABLE users ADD COLUMN username_skeleton TEXT;
CREATE INDEX users_username_skeleton ON users (username_skeleton);
CREATE TABLE throttle (
    key    TEXT NOT NULL PRIMARY KEY,
    tokens REAL NOT NULL,
    at     REAL NOT NULL
) STRICT;
CREATE TABLE secrets (
    name  TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
