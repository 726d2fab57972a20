#!lua flags=no-writes
-- Load one checkpoint (read-only: runs under OOM and on replicas). Loads of the latest
-- whose state is in the head read it with one HMGET and need no script.
-- KEYS[1] head hash, KEYS[2] history zset, KEYS[3] active segment hash
-- ARGV[1] checkpoint id, or "" for the current one
-- Returns {record, state}; {record, false} when the state is in a sealed segment (the
-- record names it: the client reads it there); nil when there is no such checkpoint.
-- A record opens with its id, then the state's segment ("h": the head) and field ("": the id).
local h = redis.call('HMGET', KEYS[1], 'rec', 'state', 'sn', 'cur', 'i:' .. ARGV[1])
local rec, current = h[1], true
if ARGV[1] ~= '' and ARGV[1] ~= h[4] then
  rec, current = h[5] and redis.call('ZRANGE', KEYS[2], h[5], h[5], 'BYSCORE')[1], false
end
if not rec then
  return false
end
local cid, seg, field = string.match(rec, '^([^\n]*)\n([^\n]*)\n([^\n]*)\n')
if field == '' then
  field = cid
end
if current and h[2] then
  return {rec, h[2]}
elseif seg == (h[3] or '0') then
  return {rec, redis.call('HGET', KEYS[3], field)}
end
return {rec, false}
