-- Cluster mode: remove a record only if it is the one the caller means.
-- KEYS[1] record key
-- ARGV[1] 'raw': remove if the key holds exactly ARGV[2];
--         'owner': remove if the JSON record's user_id is ARGV[2];
--         'claim': remove if the JSON email claim's user_id is ARGV[2] and its
--         incarnation ARGV[3] (any claim of that life of the user)
-- Returns the removed value, or nil (nothing removed).
local current = redis.call('GET', KEYS[1])
if not current then
  return false
end
if ARGV[1] == 'raw' then
  if current ~= ARGV[2] then
    return false
  end
else
  local ok, record = pcall(cjson.decode, current)
  if not ok or type(record) ~= 'table' or record.user_id ~= ARGV[2] then
    return false
  end
  if ARGV[1] == 'claim' and record.incarnation ~= ARGV[3] then
    return false
  end
end
redis.call('DEL', KEYS[1])
return current
