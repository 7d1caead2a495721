-- get_session_and_user: the session and its user, in one round trip.
-- KEYS[1] session key
-- ARGV[1] key prefix
-- Returns {session record, user record}, or nil when the session or its user is missing.
-- No expiry check here: the session key carries `PEXPIREAT expires`, so Redis never
-- returns it once expired, and auth-core's policy layer checks `expires` against the
-- caller's clock anyway.
-- The user key depends on the stored session, so it cannot be passed in KEYS: it is built
-- here exactly as keys.rs builds it (`<prefix>user:<byte length>:<id>`). Read-only.
-- The session is decoded only to read `user_id`; both records are returned as stored,
-- never re-encoded (cjson would round the numbers of their extra fields).
local raw = redis.call('GET', KEYS[1])
if not raw then
  return false
end
local ok, session = pcall(cjson.decode, raw)
if not ok or type(session) ~= 'table' or type(session.user_id) ~= 'string' then
  return redis.error_reply('CORRUPT stored session record')
end
local uid = session.user_id
local user = redis.call('GET', ARGV[1] .. 'user:' .. string.len(uid) .. ':' .. uid)
if not user then
  return false
end
return {raw, user}
