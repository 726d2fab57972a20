#!lua flags=allow-oom
-- Delete a thread, sealed segments included; with ARGV[1], only if that checkpoint is still
-- its current one (prune --older-than judges a thread stale, then deletes it: a save in
-- between keeps the thread). It only frees memory, so it may run over maxmemory.
-- KEYS[1] head hash, KEYS[2..] the thread's other keys, then its sealed segments ARGV[2]
--         to ARGV[3] - 1
-- ARGV[1] "" or the checkpoint id that must be current, ARGV[2] and ARGV[3] the head's
--         "s0" and "sn" as the caller read them
-- Returns {1, keys unlinked}; {0} when ARGV[1] is not current; {-1, s0, sn} when the
-- sealed segments are not those given (nothing is deleted: the caller asks again).
local h = redis.call('HMGET', KEYS[1], 'cur', 's0', 'sn')
if ARGV[1] ~= '' and h[1] ~= ARGV[1] then
  return {0}
end
if (h[2] or '0') ~= ARGV[2] or (h[3] or '0') ~= ARGV[3] then
  return {-1, h[2] or '0', h[3] or '0'}
end
return {1, redis.call('UNLINK', unpack(KEYS))}
