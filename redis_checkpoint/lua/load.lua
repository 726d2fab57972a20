#!lua flags=no-writes
-- Load one checkpoint (read-only: runs under OOM and on replicas).
-- KEYS[1] thread hash, KEYS[2] meta hash, KEYS[3] blobs hash
-- ARGV[1] checkpoint id, or "" for the thread's current one
-- Returns {id, record, framed state}, or nil when there is no such checkpoint
-- (a record or blob that is gone, for example expired, counts as missing).
local id = ARGV[1]
if id == '' then
  id = redis.call('HGET', KEYS[1], 'current')
  if not id then
    return false
  end
end
local rec = redis.call('HGET', KEYS[2], id)
local blob = redis.call('HGET', KEYS[3], id)
if not rec or not blob then
  return false
end
return {id, rec, blob}
