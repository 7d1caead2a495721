-- delete_session: remove the session and its index entries.
-- KEYS[1] session key; KEYS[2] owner's user-sessions; KEYS[3] session-expiries
-- ARGV[1] the record Rust read; ARGV[2] token; ARGV[3] expiries member
-- Returns the removed record; nil when absent; RETRY when it changed since Rust read it.
local current = redis.call('GET', KEYS[1])
if not current then
  return false
end
if current ~= ARGV[1] then
  return redis.status_reply('RETRY')
end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[3])
return current
