#!lua flags=no-writes
-- One page of a thread's history, newest first in commit order (read-only).
-- KEYS[1] history zset, KEYS[2] meta hash
-- ARGV[1] "" to start at the newest, or a checkpoint id to start just before it
-- ARGV[2] page size (1 to 1000; the client pages through longer listings)
-- Returns {scanned, last scanned id, id1, record1, id2, record2, ...} ("scanned" counts the
-- history entries read, so the client knows whether more remain), or nil when ARGV[1] is
-- not in the history.
-- Cost: O(log n + page size).
local max = '+inf'
if ARGV[1] ~= '' then
  local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
  if not score then
    return false
  end
  max = '(' .. score
end
local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], max, '-inf', 'LIMIT', 0, tonumber(ARGV[2]))
local out = {#ids, ids[#ids] or ''}
for i = 1, #ids do
  local rec = redis.call('HGET', KEYS[2], ids[i])
  if rec then
    out[#out + 1] = ids[i]
    out[#out + 1] = rec
  end
end
return out
