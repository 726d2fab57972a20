#!lua
-- Load one checkpoint and slide the thread's TTL (refresh_ttl_on_read=True).
-- KEYS[1] thread hash, KEYS[2] history zset, KEYS[3] meta hash, KEYS[4] blobs hash
-- ARGV[1] checkpoint id, or "" for the thread's current one
-- ARGV[2] TTL in milliseconds (> 0)
-- Returns {id, record, framed state}, or nil when there is no such checkpoint
-- (the TTL is then left alone).
local id = ARGV[1]
if id == '' then
  id = redis.call('HGET', KEYS[1], 'current')
  if not id then
    return false
  end
end
local rec = redis.call('HGET', KEYS[3], id)
local blob = redis.call('HGET', KEYS[4], id)
if not rec or not blob then
  return false
end
for i = 1, 4 do
  redis.call('PEXPIRE', KEYS[i], ARGV[2])
end
return {id, rec, blob}
