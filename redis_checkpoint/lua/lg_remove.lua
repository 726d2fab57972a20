#!lua flags=allow-oom
-- Remove LangGraph checkpoints with their writes (delete_for_runs). It only frees memory, so
-- it may run while the server is over maxmemory.
-- KEYS[1] head hash, KEYS[2] index zset, KEYS[3] writes zset, KEYS[4] active segment
-- ARGV[1] "1" when a WAIT follows, ARGV[2..] members "<ns>\0<id>"
-- Returns {removed, work...} (work: "drop <n>..." for segments left without checkpoints).
load_state()
local removed = 0
for i = 2, #ARGV do
  removed = removed + remove(ARGV[i])
end
return finish({removed})
