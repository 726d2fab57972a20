#!lua
-- Save one checkpoint of one thread, atomically (flags: may write, refused under OOM).
-- KEYS[1] thread hash: "current" (id), "seq", "record" and "state" of the current
--         checkpoint, "m:<id>" (record) of every checkpoint and "s:<id>" (framed
--         state) of every older one: the current state moves to "s:<id>" when
--         superseded, so loading the latest is one plain HMGET
--         (current, record, state) with no script
-- KEYS[2] history zset: checkpoint id -> commit sequence
-- ARGV[1] checkpoint id (client-generated: a replayed call finds it and writes nothing)
-- ARGV[2] compare-and-set mode: "" none, "0" thread must be empty, "1" current must be ARGV[3]
-- ARGV[3] expected current id (mode "1")
-- ARGV[4] framed state
-- ARGV[5] framed metadata ("" for none)
-- ARGV[6] TTL in milliseconds, "0" for none (the keys are then made persistent)
-- ARGV[7] retention: keep the newest N checkpoints, "0" for all
-- ARGV[8] "1" when a WAIT follows (min_replicas): a replay then rewrites "seq" to
--         its own value, so the WAIT on this connection has a write to count
-- Returns {1, record} when saved, {0, record} when the id was already saved (no new write),
-- {-1, current id or nil} on a compare-and-set conflict (no write).
-- record = "<created µs>\n<state bytes>\n<parent id>\n<framed metadata>"
local id = ARGV[1]
local got = redis.call('HMGET', KEYS[1], 'm:' .. id, 'current', 'seq', 'state')
if got[1] then
  if ARGV[8] == '1' then
    redis.call('HSET', KEYS[1], 'seq', got[3])
  end
  return {0, got[1]}
end
local cur, mode = got[2], ARGV[2]
if (mode == '0' and cur) or (mode == '1' and cur ~= ARGV[3]) then
  return {-1, cur}
end
local ttl, keep = tonumber(ARGV[6]), tonumber(ARGV[7])
local seq = (tonumber(got[3]) or 0) + 1
local t = redis.call('TIME')
local now = t[1] .. string.format('%06d', t[2])
local rec = now .. '\n' .. #ARGV[4] .. '\n' .. (cur or '') .. '\n' .. ARGV[5]
if cur and got[4] then
  redis.call('HSET', KEYS[1], 'current', id, 'seq', seq, 'record', rec, 'state', ARGV[4],
    'm:' .. id, rec, 's:' .. cur, got[4])
else
  redis.call('HSET', KEYS[1], 'current', id, 'seq', seq, 'record', rec, 'state', ARGV[4],
    'm:' .. id, rec)
end
redis.call('ZADD', KEYS[2], seq, id)
if keep > 0 then
  local excess = redis.call('ZCARD', KEYS[2]) - keep
  -- trim in chunks so unpack() never exceeds Lua's stack
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
  end
end
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
elseif redis.call('PTTL', KEYS[1]) >= 0 then
  redis.call('PERSIST', KEYS[1])
  redis.call('PERSIST', KEYS[2])
end
return {1, rec}
