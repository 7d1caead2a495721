-- unlink_account, delete_session, delete_authenticator: remove a record that belongs to a
-- user and its entry in the owner's index set (and in an expiry set).
-- (Prepended: guards.lua.)
-- KEYS[1] record key; KEYS[2] owner's index set; KEYS[3] expiry sorted set (optional)
-- ARGV[1] the record Rust read; ARGV[2] index member; ARGV[3] expiry-set member (with KEYS[3])
-- Returns the removed record; nil when absent; RETRY when it changed since Rust read it.
local current, refusal = unchanged_record(KEYS[1], ARGV[1])
if not current then
  return refusal
end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[2])
if KEYS[3] then
  redis.call('ZREM', KEYS[3], ARGV[3])
end
return current
