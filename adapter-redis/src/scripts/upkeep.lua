-- upkeep.lua: shared local functions that keep the index sets of sessions and verification
-- tokens bounded without a sweeper. Not a script of its own: scripts.rs prepends it to every
-- script that adds to one of those sets (create_session, update_session,
-- create_verification_token, sweep_sessions, sweep_tokens), so it is written once.
--
-- "now" is the server's clock (TIME), because the records' expiry (PXAT) runs on it too: an
-- entry is stale exactly when Redis has dropped (or is about to drop) its record. Scripts
-- are replicated by their effects (Redis >= 5, the only mode since 7), so TIME is allowed.
-- Needs Redis 7.0 (PEXPIRETIME).
--
-- What the functions guarantee, on every write that adds to an index:
-- - session-expiries: at most UPKEEP_BATCH entries with score <= now are dropped per write,
--   oldest first, each with its user-sessions member (and its session record, if still
--   there, owned and expired); a larger backlog drains over the next writes. The sorted set
--   then expires at its highest score, i.e. with its last member.
-- - user-sessions:<uid> (the set written to): up to UPKEEP_BATCH of its members are checked
--   (all of them when the set is no larger), and those whose session has expired are
--   dropped; its expiry is raised to at least the new session's, never lowered. A set
--   without expiry (written by an earlier version) gets the latest expiry of its live
--   members, so upgrading never drops a live session's index.
-- - vtoken-expiries: every entry with score <= now is dropped (its record has expired by
--   itself), and the sorted set expires at its highest score.
-- Keys built here are built exactly as keys.rs builds them (`<prefix><kind><len>:<part>`).

-- The most expired entries one write handles, so one write never blocks Redis for long.
local UPKEEP_BATCH = 1000

-- The server clock in epoch milliseconds.
local function upkeep_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- A millisecond time as Redis takes it: an integer string, never 1.7e+12.
local function ms_text(ms)
  return string.format('%.0f', ms)
end

-- keys.rs's encode_parts: each part as `<byte length>:<bytes>`, joined with ':'.
local function encode_parts(a, b)
  return string.len(a) .. ':' .. a .. ':' .. string.len(b) .. ':' .. b
end

-- keys.rs's decode_parts: the parts, or nil when malformed.
local function decode_parts(encoded)
  local parts = {}
  local pos, total = 1, string.len(encoded)
  while true do
    local colon = string.find(encoded, ':', pos, true)
    if not colon or colon == pos then
      return nil
    end
    local digits = string.sub(encoded, pos, colon - 1)
    if not string.match(digits, '^%d+$') then
      return nil
    end
    local last = colon + tonumber(digits)
    if last > total then
      return nil
    end
    parts[#parts + 1] = string.sub(encoded, colon + 1, last)
    if last == total then
      return parts
    end
    if string.sub(encoded, last + 1, last + 1) ~= ':' then
      return nil
    end
    pos = last + 2
  end
end

local function user_sessions_key(prefix, uid)
  return prefix .. 'user-sessions:' .. string.len(uid) .. ':' .. uid
end

local function session_key(prefix, token)
  return prefix .. 'session:' .. string.len(token) .. ':' .. token
end

-- The session record at `key` if it is still there and owned by `uid`, else nil.
local function owned_session(key, uid)
  local raw = redis.call('GET', key)
  if not raw then
    return nil
  end
  local ok, record = pcall(cjson.decode, raw)
  if ok and type(record) == 'table' and record.user_id == uid then
    return record
  end
  return nil
end

-- Raises the expiry of `key` to `at` (epoch ms) if it has an earlier one; a key without
-- expiry or without a value is left alone.
local function raise_expiry(key, at)
  local current = redis.call('PEXPIRETIME', key)
  if current >= 0 and current < at then
    redis.call('PEXPIREAT', key, ms_text(at))
  end
end

-- Makes a sorted set expire at its highest score (with its last member).
local function expire_with_last(zkey)
  local last = redis.call('ZRANGE', zkey, -1, -1, 'WITHSCORES')
  if last[2] then
    redis.call('PEXPIREAT', zkey, ms_text(tonumber(last[2])))
  end
end

-- Drops the session-expiries entry `member` of session (uid, token), expired at `now`:
-- its user-sessions member, the entry, and the session record when it is still there,
-- owned by uid and expired. A record still live (out of step, as in sweep_sessions) keeps
-- its entries and gets its live expiry back. Returns true when the entry was dropped.
local function drop_session_entry(prefix, zkey, member, uid, token, now)
  local key = session_key(prefix, token)
  local record = owned_session(key, uid)
  if record then
    local expires = tonumber(record.expires)
    if expires and expires > now then
      redis.call('ZADD', zkey, ms_text(expires), member)
      return false
    end
    redis.call('DEL', key)
  end
  redis.call('SREM', user_sessions_key(prefix, uid), token)
  redis.call('ZREM', zkey, member)
  return true
end

-- session-expiries: drops up to UPKEEP_BATCH entries expired at `now` (see the header).
-- Returns how many entries it looked at.
local function drain_session_expiries(prefix, zkey, now)
  local due = redis.call('ZRANGEBYSCORE', zkey, '-inf', ms_text(now), 'LIMIT', 0, UPKEEP_BATCH)
  for _, member in ipairs(due) do
    local parts = decode_parts(member)
    if parts and #parts == 2 then
      drop_session_entry(prefix, zkey, member, parts[1], parts[2], now)
    else
      -- Not written by this adapter: no record to remove.
      redis.call('ZREM', zkey, member)
    end
  end
  return #due
end

-- user-sessions:<uid> after a session expiring at `expires` was added to it: drops its
-- expired members and bounds its expiry (see the header).
local function upkeep_user_sessions(prefix, set_key, zkey, uid, expires, now)
  local current = redis.call('PEXPIRETIME', set_key)
  local members
  if current == -1 then
    -- Written by an earlier version: every member, once, to find the latest expiry.
    members = redis.call('SMEMBERS', set_key)
  else
    members = redis.call('SRANDMEMBER', set_key, UPKEEP_BATCH)
  end
  local latest = expires
  for _, token in ipairs(members) do
    local member = encode_parts(uid, token)
    local score = redis.call('ZSCORE', zkey, member)
    if score then
      score = tonumber(score)
      if score <= now then
        if not drop_session_entry(prefix, zkey, member, uid, token, now) then
          -- Still live, out of step: its record's expiry counts.
          score = tonumber(redis.call('ZSCORE', zkey, member)) or score
        end
      end
      if score > latest then
        latest = score
      end
    else
      -- No expiry entry: the record decides.
      local record = owned_session(session_key(prefix, token), uid)
      local at = record and tonumber(record.expires)
      if at and at > now then
        if at > latest then
          latest = at
        end
      else
        redis.call('SREM', set_key, token)
      end
    end
  end
  if current == -1 then
    redis.call('PEXPIREAT', set_key, ms_text(latest))
  else
    raise_expiry(set_key, latest)
  end
end

-- vtoken-expiries: drops every entry expired at `now` (their records have expired by
-- themselves). Returns how many it dropped.
local function drain_token_expiries(zkey, now)
  return redis.call('ZREMRANGEBYSCORE', zkey, '-inf', ms_text(now))
end
