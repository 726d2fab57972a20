#!lua flags=allow-oom
-- Slide the TTL of a thread's keys on a read (refresh_ttl_on_read). Flagged allow-oom: a
-- PEXPIRE stores only a time, and Redis takes a plain PEXPIRE over maxmemory too.
-- KEYS[1] head hash, KEYS[2..] the thread's other keys but sealed segments
-- ARGV[1] TTL in ms (> 0)
-- Returns {keys whose TTL was set, work...}: "refresh <first> <end>" when the sealed
-- segments' TTL is due (the client runs refresh.lua).
local n = 0
for i = 1, #KEYS do
  n = n + redis.call('PEXPIRE', KEYS[i], ARGV[1])
end
local h = redis.call('HMGET', KEYS[1], 's0', 'sn', 'rt')
local reply = {n}
local t = redis.call('TIME')
if (tonumber(h[1]) or 0) < (tonumber(h[2]) or 0) and t[1] * 1000 - (tonumber(h[3]) or 0) >= tonumber(ARGV[1]) then
  reply[2] = 'refresh ' .. (h[1] or '0') .. ' ' .. h[2]
end
return reply
