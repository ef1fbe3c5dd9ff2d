-- Gatehouse schema version 1 (SQLite).
--
-- Applied by the store's own runner (src/sqlite.rs), inside one transaction, which then
-- records the version in `schema_version`. Never edit a migration that has shipped: add
-- `0002_....sql` and bump SCHEMA_VERSION.
--
-- Times are UTC RFC 3339 text with exactly six decimals (`2024-05-01T12:00:00.000000Z`), so
-- comparing the text compares the times. Lists are JSON arrays of the values' printed forms.

-- Accounts. `email` is stored lower-cased; `username` keeps its display case and
-- `username_folded` (ASCII lower-case) carries the case-insensitive uniqueness rule.
CREATE TABLE users (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    email           TEXT    NOT NULL UNIQUE,
    username        TEXT,
    username_folded TEXT    UNIQUE,
    full_name       TEXT    NOT NULL DEFAULT '',
    affiliations    TEXT    NOT NULL DEFAULT '',
    active          INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    confirmed_at    TEXT,
    password_hash   TEXT,
    user_type       TEXT,
    entries         TEXT    NOT NULL DEFAULT '[]',
    editorial_scope TEXT    NOT NULL DEFAULT '[]',
    created         TEXT    NOT NULL,
    updated         TEXT    NOT NULL,
    version         INTEGER NOT NULL DEFAULT 1,
    CHECK ((username IS NULL) = (username_folded IS NULL))
) STRICT;

-- The user search index: email, username, full name and affiliations, lower-cased (Unicode)
-- by the store, written in the same transaction as the user. Searched with
-- `haystack LIKE '%word%'` for every word of the query.
CREATE TABLE user_search (
    user_id  INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    haystack TEXT    NOT NULL
) STRICT;

-- Roles created at run time (file and built-in roles live in user_roles.yaml and the code).
CREATE TABLE roles (
    name        TEXT PRIMARY KEY,
    description TEXT,
    entries     TEXT NOT NULL DEFAULT '[]'
) STRICT;

-- InvenioRDM action grants. `target_name` is the user id in decimal, the role name or the
-- system role; `user_id` repeats the id for user grants so that deleting the user deletes
-- them. Grants on roles may name file or built-in roles, so they carry no foreign key; the
-- store deletes them with the run-time role.
CREATE TABLE grants (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    effect      TEXT    NOT NULL CHECK (effect IN ('allow', 'deny')),
    privilege   TEXT    NOT NULL,
    target_kind TEXT    NOT NULL CHECK (target_kind IN ('user', 'role', 'system_role')),
    target_name TEXT    NOT NULL,
    user_id     INTEGER REFERENCES users (id) ON DELETE CASCADE,
    UNIQUE (effect, privilege, target_kind, target_name),
    CHECK ((target_kind = 'user') = (user_id IS NOT NULL))
) STRICT;
CREATE INDEX grants_by_target ON grants (target_kind, target_name, privilege);
CREATE INDEX grants_by_user ON grants (user_id);

-- Counters. `policy_generation` goes up with every change to run-time roles or to grants on
-- roles and system roles, so server nodes know when to recompile the policy.
CREATE TABLE meta (
    key   TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;
INSERT INTO meta (key, value) VALUES ('policy_generation', 0);

-- Who changed what, when and through which channel. `user_id` has no foreign key on purpose:
-- the record of a deleted user stays.
CREATE TABLE history (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT    NOT NULL,
    actor   TEXT    NOT NULL,
    channel TEXT    NOT NULL CHECK (channel IN ('cli', 'fixtures', 'api', 'ui')),
    action  TEXT    NOT NULL,
    user_id INTEGER,
    target  TEXT    NOT NULL DEFAULT '',
    details TEXT    NOT NULL DEFAULT 'null'
) STRICT;
CREATE INDEX history_by_user ON history (user_id, id);
CREATE INDEX history_by_time ON history (at);
