-- update_user: replace the user record and move its email claim, in one step.
-- KEYS[1] user key; then the old email key (if ARGV[4] == '1'); then the new email key
-- (if ARGV[5] == '1'). Rust passes the email keys only when the normalized email changes.
-- ARGV[1] the record Rust read (compare-and-set); ARGV[2] the new record; ARGV[3] user id
-- Returns OK; NOT_FOUND (no such user); RETRY (the record changed since Rust read it);
-- CONFLICT_EMAIL (the new email belongs to another user). On any refusal nothing changed.
local current = redis.call('GET', KEYS[1])
if not current then
  return redis.status_reply('NOT_FOUND')
end
if current ~= ARGV[1] then
  return redis.status_reply('RETRY')
end
local next_key = 2
local old_email, new_email
if ARGV[4] == '1' then
  old_email = KEYS[next_key]
  next_key = next_key + 1
end
if ARGV[5] == '1' then
  new_email = KEYS[next_key]
end
if new_email then
  local owner = redis.call('GET', new_email)
  if owner and owner ~= ARGV[3] then
    return redis.status_reply('CONFLICT_EMAIL')
  end
end
if old_email and redis.call('GET', old_email) == ARGV[3] then
  redis.call('DEL', old_email)
end
if new_email then
  redis.call('SET', new_email, ARGV[3])
end
redis.call('SET', KEYS[1], ARGV[2])
return redis.status_reply('OK')
