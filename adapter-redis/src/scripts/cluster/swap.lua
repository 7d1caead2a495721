-- Cluster mode: compare-and-set of one key.
-- KEYS[1] the key
-- ARGV[1] what Rust read; ARGV[2] the new value; ARGV[3] PXAT (epoch ms), or '' for none
-- Returns OK; nil when the key is gone; RETRY when it holds something else now.
local current = redis.call('GET', KEYS[1])
if not current then
  return false
end
if current ~= ARGV[1] then
  return redis.status_reply('RETRY')
end
if ARGV[3] == '' then
  redis.call('SET', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[3])
end
return redis.status_reply('OK')
