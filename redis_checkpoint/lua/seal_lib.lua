-- seal_start() and seal_ttl(), shared by seal.lua and lg_seal.lua (scripts.py puts this text
-- in front of theirs). ARGV[1] to ARGV[3] are, in both, the head's "sn" as the client read
-- it, and the number of states, or bytes, at which the active segment is sealed.
-- seal_start renames the active segment to `sealed` when it is due (two states at least)
-- and returns the head's sn, sc, TTL (ms) and s0; nothing when another client sealed it.
local function seal_start(head, active, sealed)
  local h = redis.call('HMGET', head, 'sn', 'sc', 'sb', 'x', 's0')
  local sn, sc, sb = h[1] or '0', tonumber(h[2]) or 0, tonumber(h[3]) or 0
  if sn ~= ARGV[1] or sc < 2 or (sc < tonumber(ARGV[2]) and sb < tonumber(ARGV[3])) then
    return nil
  end
  redis.call('RENAME', active, sealed)
  return sn, sc, tonumber(h[4]) or 0, tonumber(h[5]) or 0
end

-- A new sealed segment lives two TTLs (docs/design.md, "TTL"); when it is the only one,
-- the sealed segments' TTL clock ("st", "rt") starts now.
local function seal_ttl(head, sealed, sn, ttl, s0)
  if s0 >= tonumber(sn) then
    local t = redis.call('TIME')
    redis.call('HSET', head, 'st', ttl, 'rt', t[1] * 1000 + math.floor(t[2] / 1000))
  end
  if ttl > 0 then
    redis.call('PEXPIRE', sealed, 2 * ttl)
  else
    redis.call('PERSIST', sealed)
  end
end
