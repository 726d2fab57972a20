#!lua flags=no-writes
-- Load one checkpoint (read-only: runs under OOM and on replicas).
-- KEYS[1] thread hash
-- ARGV[1] checkpoint id, or "" for the thread's current one
-- Returns {id, record, framed state}, or nil when there is no such checkpoint
-- (a record or state that is gone counts as missing).
local id = ARGV[1]
if id == '' then
  id = redis.call('HGET', KEYS[1], 'current')
  if not id then
    return false
  end
end
local got = redis.call('HMGET', KEYS[1], 'm:' .. id, 's:' .. id)
if not got[1] or not got[2] then
  return false
end
return {id, got[1], got[2]}
