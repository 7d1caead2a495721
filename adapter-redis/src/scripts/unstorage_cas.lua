-- Auth.js unstorage layout: every multi-key change, as one compare-and-set.
-- Rust reads the keys, decides, and sends what it read with what to write; the writes
-- happen only if every checked key still holds what Rust read.
-- KEYS: the n checked keys, then the m written keys
-- ARGV[1] n; ARGV[2] m
-- then per checked key: mode ('=' holds ARGV value, '-' absent), value
-- then per written key: op ('SET' or 'DEL'), value, PEXPIREAT ms ('' for none)
-- Returns OK, or RETRY when a checked key changed.
local n = tonumber(ARGV[1])
local m = tonumber(ARGV[2])
for i = 1, n do
  local mode = ARGV[1 + 2 * i]
  local have = redis.call('GET', KEYS[i])
  if mode == '-' then
    if have then
      return redis.status_reply('RETRY')
    end
  elseif have ~= ARGV[2 + 2 * i] then
    return redis.status_reply('RETRY')
  end
end
local base = 2 + 2 * n
for j = 1, m do
  local key = KEYS[n + j]
  local op = ARGV[base + 3 * j - 2]
  if op == 'SET' then
    redis.call('SET', key, ARGV[base + 3 * j - 1])
    local at = ARGV[base + 3 * j]
    if at ~= '' then
      -- A time already past removes the key at once: an expired record is not stored.
      redis.call('PEXPIREAT', key, at)
    end
  else
    redis.call('DEL', key)
  end
end
return redis.status_reply('OK')
