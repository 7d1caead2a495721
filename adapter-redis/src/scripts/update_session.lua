-- update_session: new expiry and/or owner of a live session, moving the index entries
-- with it. (Prepended: upkeep.lua, guards.lua.)
-- KEYS[1] session key; KEYS[2] new owner's user key; KEYS[3] old owner's user-sessions;
-- KEYS[4] new owner's user-sessions (= KEYS[3] when the owner stays); KEYS[5] session-expiries
-- ARGV[1] the record Rust read; ARGV[2] new record (Rust's text, extra fields merged there,
-- stored as is); ARGV[3] token; ARGV[4] new expires
-- (epoch ms); ARGV[5] old expiries member; ARGV[6] new expiries member; ARGV[7] '1' to
-- require that the new owner exists; ARGV[8] now (epoch ms, the caller's clock); ARGV[9] key
-- prefix; ARGV[10] new owner's user id
-- Returns OK; nil when absent or expired at `now` (nothing changes then: an expired session
-- is never revived); NOT_FOUND (no such new owner); RETRY when the record changed since
-- Rust read it. An update to a past expiry removes the session.
-- Upkeep (upkeep.lua, on the server's clock): as create_session, for the new owner's set.
local current, refusal = unchanged_record(KEYS[1], ARGV[1])
if not current then
  return refusal
end
local ok, stored = pcall(cjson.decode, current)
if not ok or type(stored) ~= 'table' or type(stored.expires) ~= 'number' then
  return redis.error_reply('CORRUPT stored session record')
end
if stored.expires <= tonumber(ARGV[8]) then
  return false
end
if ARGV[7] == '1' and redis.call('EXISTS', KEYS[2]) == 0 then
  return redis.status_reply('NOT_FOUND')
end
redis.call('ZREM', KEYS[5], ARGV[5])
redis.call('SREM', KEYS[3], ARGV[3])
redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[4])
local now = upkeep_now()
drain_session_expiries(ARGV[9], KEYS[5], now)
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('SADD', KEYS[4], ARGV[3])
  redis.call('ZADD', KEYS[5], ARGV[4], ARGV[6])
  upkeep_user_sessions(ARGV[9], KEYS[4], KEYS[5], ARGV[10], tonumber(ARGV[4]), now)
end
expire_with_last(KEYS[5])
return redis.status_reply('OK')
