#!lua
-- Drop a thread's oldest checkpoints, keeping the newest N (operators: the CLI's prune).
-- KEYS[1] thread hash, KEYS[2] history zset
-- ARGV[1] N, at least 1: the current checkpoint is never removed
-- Returns the number of checkpoints removed.
local keep = tonumber(ARGV[1])
if not keep or keep < 1 then
  return redis.error_reply('ERR keep must be at least 1')
end
local excess = redis.call('ZCARD', KEYS[2]) - keep
local removed = 0
-- in chunks, so unpack() never exceeds Lua's stack
while excess > 0 do
  local old = redis.call('ZRANGE', KEYS[2], 0, math.min(excess, 500) - 1)
  local fields = {}
  for i = 1, #old do
    fields[2 * i - 1] = 'm:' .. old[i]
    fields[2 * i] = 's:' .. old[i]
  end
  redis.call('ZREM', KEYS[2], unpack(old))
  redis.call('HDEL', KEYS[1], unpack(fields))
  excess = excess - #old
  removed = removed + #old
end
return removed
