#!lua flags=allow-oom
-- Give the sealed segments the thread's TTL again: twice it, so that each expires between
-- one and two TTLs after the last save (docs/design.md, "TTL"), or none.
-- KEYS[1] head hash, KEYS[2..] sealed segments ARGV[1] to ARGV[2] - 1
-- ARGV[1] and ARGV[2] the head's "s0" and "sn"
-- Returns 1, or -1 when the head says otherwise (nothing changes).
local h = redis.call('HMGET', KEYS[1], 's0', 'sn', 'x')
if (h[1] or '0') ~= ARGV[1] or (h[2] or '0') ~= ARGV[2] then
  return -1
end
local ttl = tonumber(h[3]) or 0
for i = 2, #KEYS do
  if ttl > 0 then
    redis.call('PEXPIRE', KEYS[i], 2 * ttl)
  else
    redis.call('PERSIST', KEYS[i])
  end
end
local t = redis.call('TIME')
redis.call('HSET', KEYS[1], 'st', ttl, 'rt', t[1] * 1000 + math.floor(t[2] / 1000))
return 1
