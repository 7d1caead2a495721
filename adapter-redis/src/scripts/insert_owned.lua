-- link_account and create_authenticator: store a record that belongs to a user and index
-- it under that user.
-- (Prepended: guards.lua.)
-- KEYS[1] owner's user key; KEYS[2] record key; KEYS[3] owner's index set
-- ARGV[1] record (JSON); ARGV[2] index member
-- Returns OK; NOT_FOUND (no such user); CONFLICT (key taken). On a refusal nothing changed.
local refusal = refusal_to_insert(KEYS[1], KEYS[2])
if refusal then
  return refusal
end
redis.call('SET', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[2])
return redis.status_reply('OK')
