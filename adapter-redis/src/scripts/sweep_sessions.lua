-- delete_expired, sessions: remove the expired sessions that session-expiries lists and
-- their index entries.
-- KEYS[1] session-expiries; then per entry i: KEYS[2i] session key, KEYS[2i+1] the
-- owner's user-sessions set
-- ARGV[1] now (epoch ms); ARGV[2] count n; then per entry: member, token, owner id
-- Returns {entries handled, sessions removed}. A session whose key Redis has expired by
-- itself is gone already: its entries are dropped but it is not counted as removed here.
-- (Prepended: upkeep.lua, sweep.lua.) An entry put back with a live expiry keeps
-- session-expiries expiring at its highest score and the owner's set no earlier than that
-- session.
local function member_of(i)
  return ARGV[3 + 3 * (i - 1)]
end

local function settle(i, member, now)
  local at = 3 + 3 * (i - 1)
  local token, uid = ARGV[at + 1], ARGV[at + 2]
  local session_key, index_key = KEYS[2 * i], KEYS[2 * i + 1]
  local record = owned_session(session_key, uid)
  if record and tonumber(record.expires) > now then
    -- Out of step (should not happen): put the live expiry back instead of dropping it.
    redis.call('ZADD', KEYS[1], string.format('%.0f', record.expires), member)
    raise_expiry(index_key, tonumber(record.expires))
    return 'kept'
  end
  local outcome = 'dropped'
  if record then
    redis.call('DEL', session_key)
    outcome = 'removed'
  end
  redis.call('SREM', index_key, token)
  redis.call('ZREM', KEYS[1], member)
  return outcome
end

return sweep(member_of, settle)
