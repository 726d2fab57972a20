#!lua flags=no-writes
-- Load one checkpoint by id (read-only: runs under OOM and on replicas). The
-- latest checkpoint needs no script: the client reads it with one HMGET of the
-- fixed fields current, record, state.
-- KEYS[1] thread hash
-- ARGV[1] checkpoint id
-- Returns {id, record, framed state}, or nil when there is no such checkpoint
-- (a record or state that is gone counts as missing).
local id = ARGV[1]
local got = redis.call('HMGET', KEYS[1], 'm:' .. id, 's:' .. id, 'current')
if got[1] and not got[2] and got[3] == id then
  got[2] = redis.call('HGET', KEYS[1], 'state')
end
if not got[1] or not got[2] then
  return false
end
return {id, got[1], got[2]}
