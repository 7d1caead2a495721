-- delete_expired, sessions: remove the expired sessions that session-expiries lists and
-- their index entries.
-- KEYS[1] session-expiries; then per entry i: KEYS[2i] session key, KEYS[2i+1] the
-- owner's user-sessions set
-- ARGV[1] now (epoch ms); ARGV[2] count n; then per entry: member, token, owner id
-- Returns {entries handled, sessions removed}. A session whose key Redis has expired by
-- itself is gone already: its entries are dropped but it is not counted as removed here.
-- (Prepended: upkeep.lua.) An entry put back with a live expiry keeps session-expiries
-- expiring at its highest score and the owner's set no earlier than that session.
local now, n = tonumber(ARGV[1]), tonumber(ARGV[2])
local handled, removed = 0, 0
local readded = false
for i = 1, n do
  local at = 3 + 3 * (i - 1)
  local member, token, uid = ARGV[at], ARGV[at + 1], ARGV[at + 2]
  local session_key, index_key = KEYS[2 * i], KEYS[2 * i + 1]
  local score = redis.call('ZSCORE', KEYS[1], member)
  if score and tonumber(score) <= now then
    handled = handled + 1
    local raw = redis.call('GET', session_key)
    local record
    if raw then
      local ok, decoded = pcall(cjson.decode, raw)
      if ok and type(decoded) == 'table' and decoded.user_id == uid then
        record = decoded
      end
    end
    if record and tonumber(record.expires) > now then
      -- Out of step (should not happen): put the live expiry back instead of dropping it.
      redis.call('ZADD', KEYS[1], string.format('%.0f', record.expires), member)
      raise_expiry(index_key, tonumber(record.expires))
      readded = true
    else
      if record then
        redis.call('DEL', session_key)
        removed = removed + 1
      end
      redis.call('SREM', index_key, token)
      redis.call('ZREM', KEYS[1], member)
    end
  end
end
if readded then
  expire_with_last(KEYS[1])
end
return {handled, removed}
