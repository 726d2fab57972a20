#!lua flags=allow-oom
-- Keep only the newest checkpoints of each namespace given, and the delta chains they need
-- (prune). It only frees memory, so it may run over maxmemory.
-- KEYS[1] head hash, KEYS[2] index zset, KEYS[3] writes zset, KEYS[4] active segment
-- ARGV[1] "1" when a WAIT follows, ARGV[2] keep the newest N of each namespace (at least 1),
-- ARGV[3..] namespaces (a page of lg_namespaces.lua)
-- Returns {removed, 1 when more may be due (TRIM went: the caller calls again with the same
-- page), the namespaces it removed from, work...}: in those, the client clears the parent of
-- a checkpoint kept whose parent went (lg_unparent.lua).
load_state()
local keep = tonumber(ARGV[2])
local removed, touched = 0, {}
for i = 3, #ARGV do
  if removed >= TRIM then
    break
  end
  local count = trim(ARGV[i], keep, TRIM - removed)
  removed = removed + count
  if count > 0 then
    touched[#touched + 1] = ARGV[i]
  end
end
return finish({removed, removed >= TRIM and 1 or 0, touched})
