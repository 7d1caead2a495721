-- Migration 2, PostgreSQL: the app's own fields (auth_core::extra) on users, accounts and
-- sessions, one jsonb object each; NULL when there are none (the default, and what every row
-- made by migration 1 keeps). Adding a nullable column without a default rewrites no row.
ALTER TABLE {p}users ADD COLUMN IF NOT EXISTS extra jsonb NULL;
ALTER TABLE {p}accounts ADD COLUMN IF NOT EXISTS extra jsonb NULL;
ALTER TABLE {p}sessions ADD COLUMN IF NOT EXISTS extra jsonb NULL;
