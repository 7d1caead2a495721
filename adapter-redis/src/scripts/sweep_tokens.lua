-- delete_expired, verification tokens: remove the expired tokens vtoken-expiries lists.
-- KEYS[1] vtoken-expiries; then one token key per entry
-- ARGV[1] now (epoch ms); ARGV[2] count n; then n members
-- Returns {entries handled, tokens removed}. A token whose key Redis has expired by itself
-- is gone already: its entry is dropped but it is not counted as removed here.
-- (Prepended: upkeep.lua, sweep.lua.) An entry put back with a live expiry keeps
-- vtoken-expiries expiring at its highest score.
local function member_of(i)
  return ARGV[2 + i]
end

local function settle(i, member, now)
  local key = KEYS[1 + i]
  local raw = redis.call('GET', key)
  local record
  if raw then
    local ok, decoded = pcall(cjson.decode, raw)
    if ok and type(decoded) == 'table' then
      record = decoded
    end
  end
  if record and tonumber(record.expires) > now then
    redis.call('ZADD', KEYS[1], string.format('%.0f', record.expires), member)
    return 'kept'
  end
  local outcome = 'dropped'
  if raw then
    redis.call('DEL', key)
    outcome = 'removed'
  end
  redis.call('ZREM', KEYS[1], member)
  return outcome
end

return sweep(member_of, settle)
