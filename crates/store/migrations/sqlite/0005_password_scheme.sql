-- Gatehouse schema version 5 (SQLite): accounts moved from other platforms (issue 12).
-- - users.password_scheme: the scheme of password_hash (`argon2`, `eprints-sha512`, ...),
--   written by the store from the hash on every write, so that listing the accounts that
--   still carry an old scheme, and counting them per scheme, is one indexed query. Every
--   hash stored before this version is Gatehouse's own Argon2.
ALTER TABLE users ADD COLUMN password_scheme TEXT;
UPDATE users SET password_scheme = 'argon2' WHERE password_hash IS NOT NULL;
CREATE INDEX users_password_scheme ON users (password_scheme);
