#!lua flags=allow-oom
-- Keep only the newest checkpoint of each namespace given, and the delta chain it needs
-- (prune with keep_latest). It only frees memory, so it may run over maxmemory.
-- KEYS[1] head hash, KEYS[2] index zset, KEYS[3] writes zset, KEYS[4] active segment
-- ARGV[1] "1" when a WAIT follows, ARGV[2..] namespaces (a page of lg_namespaces.lua)
-- Returns {removed, 1 when more may be due (TRIM went: the caller calls again with the same
-- page), work...}.
load_state()
local removed = 0
for i = 2, #ARGV do
  if removed >= TRIM then
    break
  end
  removed = removed + trim(ARGV[i], 1, TRIM - removed)
end
return finish({removed, removed >= TRIM and 1 or 0})
