-- delete_user: remove the user, its email claim, accounts, sessions, authenticators and
-- index sets, all or nothing.
-- (Prepended: guards.lua.)
-- KEYS[1] user; KEYS[2] user-sessions; KEYS[3] user-accounts; KEYS[4] user-authenticators;
-- KEYS[5] session-expiries; KEYS[6] email key (only if ARGV[3] == '1'); then the session
-- keys (ARGV[4] of them), the account keys (ARGV[5]) and the authenticator keys (ARGV[6]).
-- ARGV[1] the user record Rust read; ARGV[2] user id; ARGV[3] has-email flag;
-- ARGV[4..6] the three counts; then the session tokens, the session-expiries members,
-- the account members and the credential ids, as Rust read them from the index sets.
-- Returns the removed record; nil when there is no such user; RETRY when the record or an
-- index set changed since Rust read them (nothing changed then).
local current, refusal = unchanged_record(KEYS[1], ARGV[1])
if not current then
  return refusal
end
local uid = ARGV[2]
local ns, na, nc = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local first_key = 6
local email_key
if ARGV[3] == '1' then
  email_key = KEYS[6]
  first_key = 7
end
local tokens, members, accounts, creds = 7, 7 + ns, 7 + 2 * ns, 7 + 2 * ns + na

local function same_members(set_key, first, count)
  if redis.call('SCARD', set_key) ~= count then
    return false
  end
  for i = first, first + count - 1 do
    if redis.call('SISMEMBER', set_key, ARGV[i]) == 0 then
      return false
    end
  end
  return true
end

if not (same_members(KEYS[2], tokens, ns) and same_members(KEYS[3], accounts, na)
    and same_members(KEYS[4], creds, nc)) then
  return redis.status_reply('RETRY')
end

-- Only records that still belong to this user are removed: a session token in the index
-- whose session expired may since have been reused by someone else.
local function delete_if_owned(key)
  local raw = redis.call('GET', key)
  if not raw then
    return
  end
  local ok, record = pcall(cjson.decode, raw)
  if ok and type(record) == 'table' and record.user_id == uid then
    redis.call('DEL', key)
  end
end

for i = 0, ns - 1 do
  delete_if_owned(KEYS[first_key + i])
  redis.call('ZREM', KEYS[5], ARGV[members + i])
end
for i = 0, na - 1 do
  delete_if_owned(KEYS[first_key + ns + i])
end
for i = 0, nc - 1 do
  delete_if_owned(KEYS[first_key + ns + na + i])
end
if email_key and redis.call('GET', email_key) == uid then
  redis.call('DEL', email_key)
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
return current
