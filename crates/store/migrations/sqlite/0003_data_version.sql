-- Gatehouse schema version 3 (SQLite): the data version, a counter that every committed
-- writing transaction increments, so that caches on every process can tell in one read
-- whether anything changed since they were filled.
INSERT INTO meta (key, value) VALUES ('data_version', 0);
