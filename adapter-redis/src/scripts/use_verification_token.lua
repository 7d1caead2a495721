-- use_verification_token: take the token atomically (exactly one caller gets it).
-- KEYS[1] token key; KEYS[2] vtoken-expiries
-- ARGV[1] expiries member
-- Returns the removed record (Rust refuses it if it has expired), or nil.
local current = redis.call('GET', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if not current then
  return false
end
redis.call('DEL', KEYS[1])
return current
