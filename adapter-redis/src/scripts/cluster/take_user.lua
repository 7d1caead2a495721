-- Cluster mode, delete_user's first step: remove the user and its three indexes at once,
-- in the user's slot, and return what the indexes listed (for the next steps to remove
-- those records, each in its own slot).
-- KEYS[1] user; KEYS[2] user-sessions (sorted set); KEYS[3] user-accounts; KEYS[4]
-- user-authenticators
-- Returns nil when there is no such user; otherwise {user record, #sessions, #accounts,
-- session tokens…, account members…, credential ids…} (counts as text).
local raw = redis.call('GET', KEYS[1])
if not raw then
  return false
end
local tokens = redis.call('ZRANGE', KEYS[2], 0, -1)
local accounts = redis.call('SMEMBERS', KEYS[3])
local creds = redis.call('SMEMBERS', KEYS[4])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
local out = {raw, tostring(#tokens), tostring(#accounts)}
for _, list in ipairs({tokens, accounts, creds}) do
  for _, member in ipairs(list) do
    out[#out + 1] = member
  end
end
return out
