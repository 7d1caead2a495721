-- Migration 2, MariaDB and MySQL: the app's own fields (auth_core::extra) on users, accounts
-- and sessions, one JSON object each (MariaDB: LONGTEXT checked by JSON_VALID, kept as
-- written); NULL when there are none, which is what every row made by migration 1 keeps.
ALTER TABLE {p}users ADD COLUMN extra JSON NULL;
ALTER TABLE {p}accounts ADD COLUMN extra JSON NULL;
ALTER TABLE {p}sessions ADD COLUMN extra JSON NULL;
