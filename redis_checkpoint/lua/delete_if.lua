#!lua flags=allow-oom
-- Delete a thread, but only if its current checkpoint is still the one given:
-- prune --older-than judges a thread stale, then deletes it, and a save that
-- lands in between must survive. It only deletes, so it may run while the
-- server is over maxmemory, when freeing memory is what the operator wants.
-- KEYS[1] thread hash (see save.lua), KEYS[2] history zset
-- ARGV[1] the checkpoint id that must still be current
-- Returns 1 when both keys were deleted, 0 when the thread's current checkpoint
-- is another one or there is none (nothing is deleted).
if redis.call('HGET', KEYS[1], 'current') ~= ARGV[1] then
  return 0
end
redis.call('UNLINK', KEYS[1], KEYS[2])
return 1
