-- get_session_and_user: the live session and its user, in one round trip.
-- KEYS[1] session key
-- ARGV[1] key prefix; ARGV[2] now (epoch ms, the caller's clock)
-- Returns {session record, user record}, or nil when the session is missing or expired
-- (expires <= now) or its user is gone.
-- The user key depends on the stored session, so it cannot be passed in KEYS: it is built
-- here exactly as keys.rs builds it (`<prefix>user:<byte length>:<id>`). Read-only.
local raw = redis.call('GET', KEYS[1])
if not raw then
  return false
end
local ok, session = pcall(cjson.decode, raw)
if not ok or type(session) ~= 'table' or type(session.user_id) ~= 'string'
    or type(session.expires) ~= 'number' then
  return redis.error_reply('CORRUPT stored session record')
end
if session.expires <= tonumber(ARGV[2]) then
  return false
end
local uid = session.user_id
local user = redis.call('GET', ARGV[1] .. 'user:' .. string.len(uid) .. ':' .. uid)
if not user then
  return false
end
return {raw, user}
