-- create_session: store a session of an existing user, expiring at its `expires`.
-- KEYS[1] user key; KEYS[2] session key; KEYS[3] user-sessions set; KEYS[4] session-expiries
-- ARGV[1] record (JSON); ARGV[2] token; ARGV[3] expires (epoch ms); ARGV[4] expiries member
-- Returns OK; NOT_FOUND (no such user); CONFLICT (token taken). A session that is already
-- expired is accepted and not stored: it would be absent at once anyway.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return redis.status_reply('NOT_FOUND')
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return redis.status_reply('CONFLICT')
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if tonumber(ARGV[3]) <= now then
  return redis.status_reply('OK')
end
-- ARGV[3] goes to Redis as the string Rust wrote: Lua would print a large number as 1.7e+12.
redis.call('SET', KEYS[2], ARGV[1], 'PXAT', ARGV[3])
redis.call('SADD', KEYS[3], ARGV[2])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[4])
return redis.status_reply('OK')
