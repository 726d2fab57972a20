#!lua
-- Seal the active segment: it becomes sealed segment ARGV[1], under the key given, and the
-- next state starts a new one. Records name a state's segment by number, so none changes.
-- KEYS[1] head hash, KEYS[2] active segment, KEYS[3] the sealed segment's key
-- ARGV[1] the head's "sn" (the active segment's number), ARGV[2] and ARGV[3] seal only
-- when the active segment holds at least this many states, or bytes
-- Returns 1 when sealed, 0 when there was nothing to seal (another client sealed it first).
local head, active, sealed = KEYS[1], KEYS[2], KEYS[3]
local h = redis.call('HMGET', head, 'sn', 'sc', 'sb', 'x', 's0')
local sn, sc, sb = h[1] or '0', tonumber(h[2]) or 0, tonumber(h[3]) or 0
if sn ~= ARGV[1] or sc < 2 or (sc < tonumber(ARGV[2]) and sb < tonumber(ARGV[3])) then
  return 0
end
redis.call('RENAME', active, sealed)
local ttl = tonumber(h[4]) or 0
redis.call('HSET', head, 'sn', tonumber(sn) + 1, 'sc', 0, 'sb', 0, 'g:' .. sn, sc)
if (tonumber(h[5]) or 0) >= tonumber(sn) then  -- no other sealed segment: their TTL starts now
  local t = redis.call('TIME')
  redis.call('HSET', head, 'st', ttl, 'rt', t[1] * 1000 + math.floor(t[2] / 1000))
end
if ttl > 0 then
  redis.call('PEXPIRE', sealed, 2 * ttl)
else
  redis.call('PERSIST', sealed)
end
return 1
