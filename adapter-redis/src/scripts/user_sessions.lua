-- list_sessions (mode 'prune') and delete_sessions (mode 'delete') on a user's sessions.
-- KEYS[1] user-sessions set; KEYS[2] session-expiries; then one session key per token
-- ARGV[1] user id; ARGV[2] mode; ARGV[3] count n; then n tokens; then n expiries members
-- 'prune': drops index entries whose session is gone (expired) or now belongs to someone
--   else (a token reused after expiry); returns 0.
-- 'delete': the tokens must be the whole index set as Rust read it (else RETRY, nothing
--   changed); removes every session still owned by the user and the index; returns how
--   many live sessions it removed.
local uid, mode, n = ARGV[1], ARGV[2], tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if mode == 'delete' then
  if redis.call('SCARD', KEYS[1]) ~= n then
    return redis.status_reply('RETRY')
  end
  for i = 1, n do
    if redis.call('SISMEMBER', KEYS[1], ARGV[3 + i]) == 0 then
      return redis.status_reply('RETRY')
    end
  end
end
local removed = 0
for i = 1, n do
  local key, token, member = KEYS[2 + i], ARGV[3 + i], ARGV[3 + n + i]
  local raw = redis.call('GET', key)
  local record
  if raw then
    local ok, decoded = pcall(cjson.decode, raw)
    if ok and type(decoded) == 'table' and decoded.user_id == uid then
      record = decoded
    end
  end
  if mode == 'delete' then
    if record then
      redis.call('DEL', key)
      if tonumber(record.expires) > now then
        removed = removed + 1
      end
    end
    redis.call('SREM', KEYS[1], token)
    redis.call('ZREM', KEYS[2], member)
  elseif not record then
    redis.call('SREM', KEYS[1], token)
    redis.call('ZREM', KEYS[2], member)
  end
end
return removed
