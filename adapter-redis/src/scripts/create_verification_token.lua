-- create_verification_token: store a one-time token, expiring at its `expires`.
-- KEYS[1] token key; KEYS[2] vtoken-expiries
-- ARGV[1] record (JSON); ARGV[2] expires (epoch ms); ARGV[3] expiries member
-- Returns OK, or CONFLICT when the (identifier, token) pair exists. A token that has already
-- expired is accepted and not stored (Redis drops a key set with a past PXAT at once).
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.status_reply('CONFLICT')
end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
end
return redis.status_reply('OK')
