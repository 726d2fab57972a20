#!lua
-- copy_thread in pages (flags: may write, refused under OOM).
-- A LangGraph thread (three keys, layout in lg_read.lua) is copied through keys of
-- the copy's own: "snapshot" copies the source inside its slot, the client reads
-- that in pages and "stage"s each page into keys in the target's slot, and
-- "commit" puts the staged keys in the target's place. No call passes a whole
-- thread through Lua, which held Redis for 0.3 s on 9000 checkpoints (docs/design.md).
-- KEYS[1..3] the keys this call writes (data hash, index zset, writes zset):
--           "snapshot": the snapshot keys; "stage": the staging keys; "commit": the target
-- KEYS[4..6] "snapshot": the source thread; "commit": the staging keys; "stage": none
-- KEYS[7]   "commit": this copy's mark, set once it committed
-- ARGV[1] operation, ARGV[2] TTL in ms for KEYS[1..3] ("0": make them persistent),
-- ARGV[3] "1" when a WAIT follows (see save.lua's ARGV[8])
-- "snapshot": no more arguments. Returns {fields, index members, writes members} copied.
-- "stage":    ARGV[4] n, ARGV[5] m, then n field, value pairs for the hash, m index
--             members, then writes members. Returns 0.
-- "commit":   ARGV[4..6] the counts "snapshot" returned, ARGV[7] how long (ms) the mark
--             stays: the replay window. When the staged keys hold exactly that many,
--             the target's keys are unlinked, the staged keys renamed to them and the
--             mark set: returns 1. When the staged keys are gone and the mark is there,
--             this is a replay of a commit whose reply was lost: returns 0. Otherwise
--             (a staged key expired, a page went missing) an error, and nothing changes.
local data, index, writes = KEYS[1], KEYS[2], KEYS[3]
local op = ARGV[1]
local reply = 0

local function counts(h, i, w)
  return {redis.call('HLEN', h), redis.call('ZCARD', i), redis.call('ZCARD', w)}
end

if op == 'snapshot' then
  for i = 1, 3 do  -- COPY still grows with the thread, but runs in C
    redis.call('COPY', KEYS[i + 3], KEYS[i], 'REPLACE')
  end
  reply = counts(data, index, writes)
elseif op == 'stage' then
  local n, m = tonumber(ARGV[4]), tonumber(ARGV[5])
  for i = 6, 5 + 2 * n, 2 do
    redis.call('HSET', data, ARGV[i], ARGV[i + 1])
  end
  for i = 6 + 2 * n, #ARGV do
    redis.call('ZADD', i < 6 + 2 * n + m and index or writes, 0, ARGV[i])
  end
elseif op == 'commit' then
  local want = ARGV[4] .. ' ' .. ARGV[5] .. ' ' .. ARGV[6]
  local staged = table.concat(counts(KEYS[4], KEYS[5], KEYS[6]), ' ')
  if staged == want then
    redis.call('UNLINK', data, index, writes)  -- a large old target is freed off the main thread
    for i = 1, 3 do
      if redis.call('EXISTS', KEYS[i + 3]) == 1 then
        redis.call('RENAME', KEYS[i + 3], KEYS[i])
      end
    end
    redis.call('SET', KEYS[7], 1, 'PX', ARGV[7])
    reply = 1
  elseif staged == '0 0 0' and redis.call('EXISTS', KEYS[7]) == 1 then
    if ARGV[3] == '1' then  -- give the WAIT a write to count
      redis.call('SET', KEYS[7], 1, 'PX', ARGV[7])
    end
  else
    return redis.error_reply('ERR copy incomplete: staged ' .. staged .. ' of ' .. want ..
      ' (fields, checkpoints, writes); the target was left as it was')
  end
else
  return redis.error_reply('ERR unknown operation ' .. tostring(op))
end

local ttl = tonumber(ARGV[2])
for i = 1, 3 do
  if ttl > 0 then
    redis.call('PEXPIRE', KEYS[i], ttl)
  else
    redis.call('PERSIST', KEYS[i])
  end
end
return reply
