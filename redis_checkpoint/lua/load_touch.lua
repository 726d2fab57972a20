#!lua flags=allow-oom
-- Load one checkpoint and slide the thread's TTL (refresh_ttl_on_read=True).
-- Flagged allow-oom, as touch.lua: it writes only TTLs, which store only a time, so
-- it loads over maxmemory as a load without refresh_ttl_on_read does.
-- KEYS[1] thread hash, KEYS[2] history zset
-- ARGV[1] checkpoint id, or "" for the thread's current one
-- ARGV[2] TTL in milliseconds (> 0)
-- Returns {id, record, framed state}, or nil when there is no such checkpoint
-- (the TTL is then left alone).
local id, got = ARGV[1], nil
if id == '' then
  got = redis.call('HMGET', KEYS[1], 'current', 'record', 'state')
  id = got[1]
  got = {got[2], got[3]}
else
  got = redis.call('HMGET', KEYS[1], 'm:' .. id, 's:' .. id, 'current')
  if got[1] and not got[2] and got[3] == id then
    got[2] = redis.call('HGET', KEYS[1], 'state')
  end
end
if not id or not got[1] or not got[2] then
  return false
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return {id, got[1], got[2]}
