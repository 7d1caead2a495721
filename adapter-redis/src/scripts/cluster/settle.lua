-- Cluster mode: make a confirmed record durable, if it is still the one Rust wrote or read.
-- KEYS[1] record key
-- ARGV[1] the record; ARGV[2] its final PEXPIREAT (epoch ms), or '' to keep it for good
-- Returns OK, or nil when the key holds something else or nothing.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return false
end
if ARGV[2] == '' then
  redis.call('PERSIST', KEYS[1])
else
  redis.call('PEXPIREAT', KEYS[1], ARGV[2])
end
return redis.status_reply('OK')
