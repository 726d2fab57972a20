#!lua
-- Save one checkpoint of one thread, atomically (flags: may write, refused under OOM).
-- KEYS[1] thread hash   (current, seq, updated)
-- KEYS[2] history zset  (checkpoint id -> commit sequence)
-- KEYS[3] meta hash     (checkpoint id -> metadata record)
-- KEYS[4] blobs hash    (checkpoint id -> framed state)
-- ARGV[1] checkpoint id (client-generated: a replayed call finds it and writes nothing)
-- ARGV[2] compare-and-set mode: "" none, "0" thread must be empty, "1" current must be ARGV[3]
-- ARGV[3] expected current id (mode "1")
-- ARGV[4] framed state
-- ARGV[5] framed metadata ("" for none)
-- ARGV[6] TTL in milliseconds, "0" for none (keys are then made persistent)
-- ARGV[7] retention: keep the newest N checkpoints, "0" for all
-- Returns {1, record} when saved, {0, record} when the id was already saved (no write),
-- {-1, current id or nil} on a compare-and-set conflict (no write).
-- record = "<created µs>\n<state bytes>\n<parent id>\n<framed metadata>"
local id = ARGV[1]
local rec = redis.call('HGET', KEYS[3], id)
if rec then
  return {0, rec}
end
local cur = redis.call('HGET', KEYS[1], 'current')
local mode = ARGV[2]
if (mode == '0' and cur) or (mode == '1' and cur ~= ARGV[3]) then
  return {-1, cur}
end
local ttl = tonumber(ARGV[6])
local keep = tonumber(ARGV[7])
local t = redis.call('TIME')
local now = t[1] .. string.format('%06d', t[2])
rec = now .. '\n' .. #ARGV[4] .. '\n' .. (cur or '') .. '\n' .. ARGV[5]
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSET', KEYS[1], 'current', id, 'updated', now)
redis.call('ZADD', KEYS[2], seq, id)
redis.call('HSET', KEYS[3], id, rec)
redis.call('HSET', KEYS[4], id, ARGV[4])
if keep > 0 then
  local excess = redis.call('ZCARD', KEYS[2]) - keep
  -- trim in chunks so unpack() never exceeds Lua's stack
  while excess > 0 do
    local old = redis.call('ZRANGE', KEYS[2], 0, math.min(excess, 500) - 1)
    redis.call('ZREM', KEYS[2], unpack(old))
    redis.call('HDEL', KEYS[3], unpack(old))
    redis.call('HDEL', KEYS[4], unpack(old))
    excess = excess - #old
  end
end
for i = 1, 4 do
  if ttl > 0 then
    redis.call('PEXPIRE', KEYS[i], ttl)
  else
    redis.call('PERSIST', KEYS[i])
  end
end
return {1, rec}
