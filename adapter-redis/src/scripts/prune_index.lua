-- list_sessions, list_accounts, list_authenticators: drop the index entries that no longer
-- point at a record of this user (its session expired, or the key now belongs to someone
-- else).
-- KEYS[1] the user's index set; KEYS[2] an expiry sorted set, or the index set again when
-- there is none; then one record key per entry
-- ARGV[1] user id; ARGV[2] count n; then n index members; then n expiry-set members (only
-- when KEYS[2] differs from KEYS[1])
-- Each entry is checked again here, so one made valid meanwhile stays. Returns how many
-- entries it dropped.
local uid, n = ARGV[1], tonumber(ARGV[2])
local expiries = KEYS[2] ~= KEYS[1]
local dropped = 0
for i = 1, n do
  local raw = redis.call('GET', KEYS[2 + i])
  local owned = false
  if raw then
    local ok, record = pcall(cjson.decode, raw)
    owned = ok and type(record) == 'table' and record.user_id == uid
  end
  if not owned then
    dropped = dropped + redis.call('SREM', KEYS[1], ARGV[2 + i])
    if expiries then
      redis.call('ZREM', KEYS[2], ARGV[2 + n + i])
    end
  end
end
return dropped
