-- delete_expired, verification tokens: remove the expired tokens vtoken-expiries lists.
-- KEYS[1] vtoken-expiries; then one token key per entry
-- ARGV[1] now (epoch ms); ARGV[2] count n; then n members
-- Returns {entries handled, tokens removed}. A token whose key Redis has expired by itself
-- is gone already: its entry is dropped but it is not counted as removed here.
-- (Prepended: upkeep.lua.) An entry put back with a live expiry keeps vtoken-expiries
-- expiring at its highest score.
local now, n = tonumber(ARGV[1]), tonumber(ARGV[2])
local handled, removed = 0, 0
local readded = false
for i = 1, n do
  local member, key = ARGV[2 + i], KEYS[1 + i]
  local score = redis.call('ZSCORE', KEYS[1], member)
  if score and tonumber(score) <= now then
    handled = handled + 1
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
      readded = true
    else
      if raw then
        redis.call('DEL', key)
        removed = removed + 1
      end
      redis.call('ZREM', KEYS[1], member)
    end
  end
end
if readded then
  expire_with_last(KEYS[1])
end
return {handled, removed}
