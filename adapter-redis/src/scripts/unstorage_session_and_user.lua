-- Auth.js unstorage layout: a session and its user in one round trip.
-- KEYS[1] the session key
-- ARGV[1] the driver base as it starts every key ('' or '<base>:')
-- ARGV[2] the storage prefix of user keys (baseKeyPrefix .. 'user:')
-- Returns {session, user}, {session} when the session names no user id, or nil.
-- The user key is built here as unstorage normalizes keys (src/unstorage/keys.rs).
-- The session is decoded only to read `userId`; both records are returned as stored,
-- never re-encoded (cjson would round the numbers of their extra fields).
local session = redis.call('GET', KEYS[1])
if not session then
  return false
end
local ok, decoded = pcall(cjson.decode, session)
if not ok or type(decoded) ~= 'table' or type(decoded.userId) ~= 'string' then
  return {session}
end
local key = string.match(ARGV[2] .. decoded.userId, '^[^?]*')
key = string.gsub(key, '[/\\]', ':')
key = string.gsub(key, ':+', ':')
key = string.gsub(key, '^:', '')
key = string.gsub(key, ':$', '')
local user = redis.call('GET', ARGV[1] .. key)
if not user then
  return false
end
return {session, user}
