-- Cluster mode, delete_sessions' first step: empty a user's sessions index at once and
-- return its members. From here on none of those sessions is served (a read confirms a
-- session in this index); the records are removed next, each in its own slot.
-- KEYS[1] user-sessions (sorted set)
-- Returns the session tokens (possibly none).
local tokens = redis.call('ZRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
return tokens
