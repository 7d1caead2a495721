DROP TABLE IF EXISTS auth_authenticators;
DROP TABLE IF EXISTS auth_verification_tokens;
DROP TABLE IF EXISTS auth_sessions;
DROP TABLE IF EXISTS auth_accounts;
DROP TABLE IF EXISTS auth_users;
