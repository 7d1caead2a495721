-- Cluster mode: confirm a record by listing it in its owner's index, in the owner's slot.
-- KEYS[1] the owner's user key; KEYS[2] the owner's index (a set, or for sessions a
-- sorted set scored by expiry)
-- ARGV[1] member; ARGV[2] score (epoch ms) for the sorted set, '' for a set
-- Returns OK, or NOT_FOUND (no such user: nothing changes). The existence check and the
-- add are one step, so a concurrent delete_user either lists the member in what it takes
-- or makes this answer NOT_FOUND.
-- Upkeep of the sessions index, on the server's clock (the one PXAT runs on): members whose
-- session has expired are dropped, and the set expires with its last member.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return redis.status_reply('NOT_FOUND')
end
if ARGV[2] == '' then
  redis.call('SADD', KEYS[2], ARGV[1])
  return redis.status_reply('OK')
end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', string.format('%.0f', now))
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
if last[2] then
  redis.call('PEXPIREAT', KEYS[2], string.format('%.0f', tonumber(last[2])))
end
return redis.status_reply('OK')
