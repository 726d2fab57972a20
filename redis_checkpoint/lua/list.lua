#!lua flags=no-writes
-- One page of a thread's history, newest first in commit order (read-only).
-- KEYS[1] history zset (checkpoints score 1 and up; see save.lua), KEYS[2] thread hash
--         (records under "m:<id>")
-- ARGV[1] "" to start at the newest, or a checkpoint id to start just before it
-- ARGV[2] page size (1 to 1000; the client pages through longer listings)
-- Returns {scanned, last scanned id, id1, record1, id2, record2, ...} ("scanned" counts the
-- history entries read, so the client knows whether more remain), or nil when ARGV[1] is
-- not in the history. Cost: O(log n + page size).
local max = '+inf'
if ARGV[1] ~= '' then
  local score = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]))
  if not score or score <= 0 then  -- absent, or removed by retention
    return false
  end
  max = '(' .. score
end
local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], max, '(0', 'LIMIT', 0, tonumber(ARGV[2]))
if #ids == 0 then
  return {0, ''}
end
local fields = {}
for i = 1, #ids do
  fields[i] = 'm:' .. ids[i]
end
local recs = redis.call('HMGET', KEYS[2], unpack(fields))
local out = {#ids, ids[#ids]}
for i = 1, #ids do
  if recs[i] then
    out[#out + 1] = ids[i]
    out[#out + 1] = recs[i]
  end
end
return out
