-- create_session: store a session of an existing user, expiring at its `expires`.
-- (Prepended: upkeep.lua, guards.lua.)
-- KEYS[1] user key; KEYS[2] session key; KEYS[3] user-sessions set; KEYS[4] session-expiries
-- ARGV[1] record (JSON); ARGV[2] token; ARGV[3] expires (epoch ms); ARGV[4] expiries member;
-- ARGV[5] key prefix (upkeep builds the keys of other users' expired entries with it);
-- ARGV[6] user id
-- Returns OK; NOT_FOUND (no such user); CONFLICT (token taken). The user check and the
-- insert are one step, so a concurrent delete_user either sees the session in the index or
-- makes this script answer NOT_FOUND: no orphan either way. A session that has already
-- expired is accepted and not stored (Redis drops a key set with a past PXAT at once); it
-- then gets no index entries either.
-- Upkeep (upkeep.lua): up to UPKEEP_BATCH expired session-expiries entries are dropped with
-- their user-sessions members; the user-sessions set drops its expired members and expires
-- no earlier than the new session; session-expiries expires at its highest score.
local refusal = refusal_to_insert(KEYS[1], KEYS[2])
if refusal then
  return refusal
end
-- ARGV[3] goes to Redis as the string Rust wrote: Lua would print a large number as 1.7e+12.
redis.call('SET', KEYS[2], ARGV[1], 'PXAT', ARGV[3])
local now = upkeep_now()
drain_session_expiries(ARGV[5], KEYS[4], now)
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('SADD', KEYS[3], ARGV[2])
  redis.call('ZADD', KEYS[4], ARGV[3], ARGV[4])
  upkeep_user_sessions(ARGV[5], KEYS[3], KEYS[4], ARGV[6], tonumber(ARGV[3]), now)
end
expire_with_last(KEYS[4])
return redis.status_reply('OK')
