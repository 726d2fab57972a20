#!lua
-- Seal the active segment of a LangGraph thread: rename it to a sealed segment, and copy the
-- newest checkpoint of the root namespace and the one named by ARGV[4] (record, the blobs
-- it uses, its writes) into a new active segment, so the next put finds its parent's blobs.
-- KEYS[1] head hash, KEYS[2] index zset, KEYS[3] writes zset, KEYS[4] active segment,
-- KEYS[5] the sealed segment numbered ARGV[1]
-- ARGV[1] the head's "sn", ARGV[2] and ARGV[3] seal only when the active segment holds at
-- least this many checkpoints, or bytes, ARGV[4] "" or a member "<ns>\0<id>" to carry too
-- Returns 1 when sealed, 0 when there was nothing to seal (another client sealed it first).
local head, index, writes, active, sealed = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local sn, sc, ttl, s0 = seal_start(head, active, sealed)
if not sn then
  return 0
end
local next_sn = tonumber(sn) + 1
local carry = {redis.call('ZREVRANGEBYLEX', index, '[\0\255', '[\0', 'LIMIT', 0, 1)[1]}
if ARGV[4] ~= '' and ARGV[4] ~= carry[1] then
  carry[#carry + 1] = ARGV[4]
end
local moved, bytes = 0, 0
local function copy(field)
  local value = redis.call('HGET', sealed, field)
  if value then
    redis.call('HSET', active, field, value)
    bytes = bytes + #value
  end
  return value
end
for _, member in ipairs(carry) do
  if redis.call('HGET', head, 's:' .. member) == sn then
    copy('c:' .. member)
    for field in string.gmatch(copy('v:' .. member) or '', '[^\n]+') do
      if redis.call('HEXISTS', active, field) == 0 then
        copy(field)
      end
      redis.call('HINCRBY', active, 'r:' .. field, 1)
    end
    for _, w in ipairs(redis.call('ZRANGEBYLEX', writes, '[' .. member .. '\0', '[' .. member .. '\0\255')) do
      copy('w:' .. w)
    end
    redis.call('HSET', head, 's:' .. member, next_sn)
    moved = moved + 1
  end
end
redis.call('HSET', head, 'sn', next_sn, 'sc', moved, 'sb', bytes, 'g:' .. sn, sc - moved)
seal_ttl(head, sealed, sn, ttl, s0)
if ttl > 0 and moved > 0 then
  redis.call('PEXPIRE', active, ttl)
end
return 1
