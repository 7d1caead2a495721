-- Cluster mode: the owner of a record, if the owner's index lists the record.
-- KEYS[1] the owner's user key; KEYS[2] the owner's index (set or sorted set)
-- ARGV[1] member
-- Returns the user record, or nil when the user is gone or does not list the member (a
-- record left behind by an interrupted change: never served). Read-only.
local kind = redis.call('TYPE', KEYS[2])['ok']
local listed
if kind == 'zset' then
  listed = redis.call('ZSCORE', KEYS[2], ARGV[1])
elseif kind == 'set' then
  listed = redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1
end
if not listed then
  return false
end
return redis.call('GET', KEYS[1])
