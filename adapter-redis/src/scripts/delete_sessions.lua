-- delete_sessions: sign a user out everywhere.
-- KEYS[1] user-sessions set; KEYS[2] session-expiries; then one session key per token
-- ARGV[1] user id; ARGV[2] now (epoch ms); ARGV[3] count n; then n tokens; then n expiries
-- members. The tokens must be the whole index set as Rust read it (else RETRY, nothing
-- changed).
-- Removes every session still owned by the user and the index; returns exactly how many of
-- them were live (expires > now).
local uid, now, n = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
if redis.call('SCARD', KEYS[1]) ~= n then
  return redis.status_reply('RETRY')
end
for i = 1, n do
  if redis.call('SISMEMBER', KEYS[1], ARGV[3 + i]) == 0 then
    return redis.status_reply('RETRY')
  end
end
local removed = 0
for i = 1, n do
  local key, member = KEYS[2 + i], ARGV[3 + n + i]
  local raw = redis.call('GET', key)
  if raw then
    local ok, record = pcall(cjson.decode, raw)
    if ok and type(record) == 'table' and record.user_id == uid then
      redis.call('DEL', key)
      if tonumber(record.expires) > now then
        removed = removed + 1
      end
    end
  end
  redis.call('ZREM', KEYS[2], member)
end
redis.call('DEL', KEYS[1])
return removed
