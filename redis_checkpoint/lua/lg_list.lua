#!lua flags=no-writes
-- One page of a LangGraph namespace, newest id first (read-only).
-- KEYS[1] head hash, KEYS[2] index zset, KEYS[3] writes zset, KEYS[4] active segment
-- ARGV[1] namespace, ARGV[2] "" or an id to start just below, ARGV[3] page size,
-- ARGV[4] "1" for records only (no values, no writes)
-- Returns {index members read, the last one's id or ""}, then per checkpoint what entry()
-- writes when it is in the active segment, or {id, n} when it is in sealed segment n (the
-- client reads those with lg_fetch.lua). Members without a segment are skipped.
local head, index = KEYS[1], KEYS[2]
local ns = ARGV[1]
local top = '[' .. ns .. '\0\255'
if ARGV[2] ~= '' then
  top = '(' .. ns .. '\0' .. ARGV[2]
end
local ids = redis.call('ZREVRANGEBYLEX', index, top, '[' .. ns .. '\0', 'LIMIT', 0, tonumber(ARGV[3]))
local out = {#ids, ids[#ids] and string.sub(ids[#ids], #ns + 2) or ''}
if #ids == 0 then
  return out
end
local names = {'sn'}
for i, m in ipairs(ids) do
  names[i + 1] = 's:' .. m
end
local at = redis.call('HMGET', head, unpack(names))
local sn, sent, bare = at[1] or '0', {}, ARGV[4] == '1'
for i, m in ipairs(ids) do
  local seg = at[i + 1]
  if seg == sn then
    entry(out, sent, KEYS[4], KEYS[3], ns, m, bare)
  elseif seg then
    out[#out + 1] = string.sub(m, #ns + 2)
    out[#out + 1] = tonumber(seg)
  end
end
return out
