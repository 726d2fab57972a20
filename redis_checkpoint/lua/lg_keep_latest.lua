#!lua flags=allow-oom
-- Keep only the newest checkpoint of each namespace given, and the delta chain it needs
-- (prune with keep_latest). It only frees memory, so it may run over maxmemory.
-- KEYS[1] head hash, KEYS[2] index zset, KEYS[3] writes zset, KEYS[4] active segment
-- ARGV[1] "1" when a WAIT follows, ARGV[2..] namespaces (a page of lg_namespaces.lua)
-- Returns {removed, 1 when more may be due (TRIM went: the caller calls again with the same
-- page), orphans, work...}: orphans are the members left alone in their namespace by this
-- call, whose parent is gone (the client clears it from their records, lg_unparent.lua).
load_state()
local removed, orphans = 0, {}
for i = 2, #ARGV do
  if removed >= TRIM then
    break
  end
  local ns = ARGV[i]
  local count = trim(ns, 1, TRIM - removed)
  removed = removed + count
  if count > 0 then
    local left = redis.call('ZRANGEBYLEX', index, '[' .. ns .. '\0', '[' .. ns .. '\0\255', 'LIMIT', 0, 2)
    if #left == 1 then
      orphans[#orphans + 1] = left[1]
    end
  end
end
return finish({removed, removed >= TRIM and 1 or 0, orphans})
