#!lua
-- Seal the active segment: it becomes sealed segment ARGV[1], under the key given, and the
-- next state starts a new one. Records name a state's segment by number, so none changes.
-- KEYS[1] head hash, KEYS[2] active segment, KEYS[3] the sealed segment's key
-- ARGV[1] the head's "sn" (the active segment's number), ARGV[2] and ARGV[3] seal only
-- when the active segment holds at least this many states, or bytes
-- Returns 1 when sealed, 0 when there was nothing to seal (another client sealed it first).
local head, sealed = KEYS[1], KEYS[3]
local sn, sc, ttl, s0 = seal_start(head, KEYS[2], sealed)
if not sn then
  return 0
end
redis.call('HSET', head, 'sn', tonumber(sn) + 1, 'sc', 0, 'sb', 0, 'g:' .. sn, sc)
seal_ttl(head, sealed, sn, ttl, s0)
return 1
