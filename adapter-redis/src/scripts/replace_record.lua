-- update_account and update_authenticator_counter: compare-and-set of one record.
-- (Prepended: guards.lua.)
-- KEYS[1] record key
-- ARGV[1] the record Rust read; ARGV[2] the new record
-- Returns OK; nil when absent; RETRY when it changed since Rust read it.
local current, refusal = unchanged_record(KEYS[1], ARGV[1])
if not current then
  return refusal
end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return redis.status_reply('OK')
