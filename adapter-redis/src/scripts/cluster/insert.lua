-- Cluster mode: write a record that is not confirmed yet (pending), if its key is free.
-- KEYS[1] record key
-- ARGV[1] record; ARGV[2] PXAT of the pending record (epoch ms), or '' for none (an email
-- claim, which carries its own time)
-- Returns OK when written; otherwise {the record there, its PEXPIRETIME} and nothing
-- changes. A time already past stores nothing (an expired session is accepted, not kept).
local current = redis.call('GET', KEYS[1])
if current then
  return {current, tostring(redis.call('PEXPIRETIME', KEYS[1]))}
end
if ARGV[2] == '' then
  redis.call('SET', KEYS[1], ARGV[1])
else
  redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
end
return redis.status_reply('OK')
