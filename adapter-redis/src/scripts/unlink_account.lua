-- unlink_account: remove the account and its entry in the owner's index set.
-- KEYS[1] account key; KEYS[2] owner's user-accounts set
-- ARGV[1] the record Rust read; ARGV[2] index member
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
return current
