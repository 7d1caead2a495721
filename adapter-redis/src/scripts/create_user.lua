-- create_user: claim the user id and the normalized email together.
-- KEYS[1] user key; KEYS[2] email key (only when the user has an email)
-- ARGV[1] user record (JSON); ARGV[2] user id
-- Returns OK, or CONFLICT (id taken) / CONFLICT_EMAIL (email taken), changing nothing.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.status_reply('CONFLICT')
end
if KEYS[2] and redis.call('EXISTS', KEYS[2]) == 1 then
  return redis.status_reply('CONFLICT_EMAIL')
end
if KEYS[2] then
  redis.call('SET', KEYS[2], ARGV[2])
end
redis.call('SET', KEYS[1], ARGV[1])
return redis.status_reply('OK')
