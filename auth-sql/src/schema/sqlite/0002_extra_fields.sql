-- Migration 2, SQLite: the app's own fields (auth_core::extra) on users, accounts and
-- sessions, one JSON object each as TEXT (kept as written, so numbers read back exactly);
-- NULL when there are none, which is what every row made by migration 1 keeps.
ALTER TABLE {p}users ADD COLUMN extra TEXT NULL;
ALTER TABLE {p}accounts ADD COLUMN extra TEXT NULL;
ALTER TABLE {p}sessions ADD COLUMN extra TEXT NULL;
