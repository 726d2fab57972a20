#!lua flags=allow-oom
-- Remove all but the newest checkpoints of a thread (the command line's prune --keep).
-- It only frees memory, so it may run while the server is over maxmemory.
-- KEYS[1] head hash, KEYS[2] history zset, KEYS[3] active segment hash
-- ARGV[1] keep the newest N (at least 1), ARGV[2] replay window in ms
-- Returns {removed, 1 when more are due, work...} (work as in save.lua: "drop ...").
local keep = tonumber(ARGV[1])
if not keep or keep < 1 then
  return redis.error_reply('ERR keep must be at least 1')
end
local g = redis.call('HMGET', KEYS[1], 'tl', 'sn', 'sc', 'sb', 'dz')
local t = redis.call('TIME')
local state = {tl = tonumber(g[1]) or 1, sn = tonumber(g[2]) or 0, sc = tonumber(g[3]) or 0,
  sb = tonumber(g[4]) or 0, dz = g[5] or ''}
local removed, more = retain(state, keep, tonumber(ARGV[2]), t[1] * 1000 + math.floor(t[2] / 1000))
local reply = {removed, more and 1 or 0}
if state.dz ~= '' then
  reply[3] = 'drop' .. state.dz
end
return reply
