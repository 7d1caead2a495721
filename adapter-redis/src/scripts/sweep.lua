-- sweep.lua: delete_expired's pass over one expiry sorted set, written once for sessions and
-- verification tokens. Not a script of its own: scripts.rs prepends it (after upkeep.lua,
-- whose expire_with_last it calls) to sweep_sessions and sweep_tokens.

-- KEYS[1] is the sorted set; ARGV[1] now (epoch ms), ARGV[2] the count n of entries Rust
-- listed. For each entry i, `member_of(i)` is its member; an entry whose score is still
-- <= now is handed to `settle(i, member, now)`, which answers 'removed' (its record was
-- deleted), 'dropped' (the entry went, without a record to delete) or 'kept' (put back with
-- its record's live expiry). Returns {entries handled, records removed}; when an entry was
-- put back, the sorted set expires at its highest score again.
local function sweep(member_of, settle)
  local now, n = tonumber(ARGV[1]), tonumber(ARGV[2])
  local handled, removed = 0, 0
  local readded = false
  for i = 1, n do
    local member = member_of(i)
    local score = redis.call('ZSCORE', KEYS[1], member)
    if score and tonumber(score) <= now then
      handled = handled + 1
      local outcome = settle(i, member, now)
      if outcome == 'removed' then
        removed = removed + 1
      elseif outcome == 'kept' then
        readded = true
      end
    end
  end
  if readded then
    expire_with_last(KEYS[1])
  end
  return {handled, removed}
end
