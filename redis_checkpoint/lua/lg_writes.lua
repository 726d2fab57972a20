#!lua
-- Store the pending writes of one task of a LangGraph checkpoint, in the checkpoint's
-- segment (refused before it starts under OOM). A regular write that is there already is
-- never replaced, so a retried task cannot change what it wrote.
-- KEYS[1] head hash, KEYS[2] writes zset, KEYS[3] the segment: the active one, or the sealed
--         one numbered ARGV[2]
-- ARGV[1] checkpoint member "<ns>\0<id>", ARGV[2] "" or the sealed segment's number,
-- ARGV[3] "<TTL ms> <1 when a WAIT follows, else 0>", ARGV[4] bytes this call adds,
-- ARGV[5..] triples: write member, value, "1" if it may replace a write already there
-- Returns {"segment", n} when the checkpoint is in another segment (nothing is written:
-- the client calls again with that one), else {"ok"}.
local head, writes, seg = KEYS[1], KEYS[2], KEYS[3]
local h = redis.call('HMGET', head, 's:' .. ARGV[1], 'sn', 'x', 'v')
if h[4] and h[4] ~= '2' then
  return redis.error_reply('ERR thread ' .. head .. ' has layout ' .. h[4] .. ': this version reads layout 2')
end
local sn = h[2] or '0'
local at = h[1] or sn  -- writes for a checkpoint not put yet go to the active segment
if at ~= (ARGV[2] ~= '' and ARGV[2] or sn) then
  return {'segment', at}
end
local ttl, wait = string.match(ARGV[3], '^(%d+) (%d)$')
local wrote = false
for i = 5, #ARGV, 3 do
  local field = 'w:' .. ARGV[i]
  if ARGV[i + 2] == '1' or redis.call('HEXISTS', seg, field) == 0 then
    redis.call('HSET', seg, field, ARGV[i + 1])
    redis.call('ZADD', writes, 0, ARGV[i])
    wrote = true
  end
end
ttl = tonumber(ttl)
local touched = {head, writes}
if at == sn then
  redis.call('HINCRBY', head, 'sb', ARGV[4])
  touched[3] = seg
end
for _, key in ipairs(touched) do
  if ttl > 0 then
    redis.call('PEXPIRE', key, ttl)
  elseif h[3] and h[3] ~= '0' then
    redis.call('PERSIST', key)
  end
end
if wait == '1' and not wrote then  -- a retry that wrote nothing: a write for the WAIT to count
  redis.call('HSET', head, 'sn', sn)
end
return {'ok'}
