-- guards.lua: the checks a script makes before it writes, written once. Not a script of its
-- own: scripts.rs prepends it (local functions only) to every script that names it
-- (delete_user, remove_owned, replace_record, update_session, insert_owned, create_session).

-- The compare-and-set check of one record: the record at `key` if it is still `expected`
-- (the value Rust read); otherwise nil and the reply the script gives at once: nil (false)
-- when the record is gone, RETRY when it changed since Rust read it.
local function unchanged_record(key, expected)
  local current = redis.call('GET', key)
  if not current then
    return nil, false
  end
  if current ~= expected then
    return nil, redis.status_reply('RETRY')
  end
  return current
end

-- Whether a record of the user at `owner_key` may be stored at `key`: nil when the user
-- exists and the key is free; otherwise the refusal, NOT_FOUND (no such user) or CONFLICT
-- (key taken).
local function refusal_to_insert(owner_key, key)
  if redis.call('EXISTS', owner_key) == 0 then
    return redis.status_reply('NOT_FOUND')
  end
  if redis.call('EXISTS', key) == 1 then
    return redis.status_reply('CONFLICT')
  end
  return nil
end
