#!lua flags=allow-oom
-- Load one checkpoint and slide the thread's TTL (refresh_ttl_on_read=True). Flagged
-- allow-oom: it writes only TTLs, so it loads over maxmemory as load.lua does.
-- KEYS[1] head hash, KEYS[2] history zset, KEYS[3] active segment hash
-- ARGV[1] checkpoint id, or "" for the current one, ARGV[2] TTL in ms (> 0)
-- Returns as load.lua, with "refresh <first> <end>" after the state when the sealed
-- segments' TTL is due (the client runs refresh.lua); nil leaves every TTL alone.
local h = redis.call('HMGET', KEYS[1], 'rec', 'state', 'sn', 'cur', 'i:' .. ARGV[1], 's0', 'rt')
local rec, current = h[1], true
if ARGV[1] ~= '' and ARGV[1] ~= h[4] then
  rec, current = h[5] and redis.call('ZRANGE', KEYS[2], h[5], h[5], 'BYSCORE')[1], false
end
if not rec then
  return false
end
local ttl = tonumber(ARGV[2])
for i = 1, 3 do
  redis.call('PEXPIRE', KEYS[i], ttl)
end
local cid, seg, field = string.match(rec, '^([^\n]*)\n([^\n]*)\n([^\n]*)\n')
if field == '' then
  field = cid
end
local sn = h[3] or '0'
local state = false
if current and h[2] then
  state = h[2]
elseif seg == sn then
  state = redis.call('HGET', KEYS[3], field)
end
local reply = {rec, state}
local t = redis.call('TIME')
if (tonumber(h[6]) or 0) < tonumber(sn) and t[1] * 1000 - (tonumber(h[7]) or 0) >= ttl then
  reply[3] = 'refresh ' .. (h[6] or '0') .. ' ' .. sn
end
return reply
