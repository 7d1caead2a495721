-- create_verification_token: store a one-time token, expiring at its `expires`.
-- (Prepended: upkeep.lua.)
-- KEYS[1] token key; KEYS[2] vtoken-expiries
-- ARGV[1] record (JSON); ARGV[2] expires (epoch ms); ARGV[3] expiries member
-- Returns OK, or CONFLICT when the (identifier, token) pair exists. A token that has already
-- expired is accepted and not stored (Redis drops a key set with a past PXAT at once).
-- Upkeep (upkeep.lua, on the server's clock): every vtoken-expiries entry expired by now is
-- dropped first (its record has expired by itself), and the sorted set expires at its
-- highest score.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.status_reply('CONFLICT')
end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
drain_token_expiries(KEYS[2], upkeep_now())
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
end
expire_with_last(KEYS[2])
return redis.status_reply('OK')
