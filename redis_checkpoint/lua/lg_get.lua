#!lua flags=no-writes
-- Read one LangGraph checkpoint, the newest of its namespace or one by id (read-only).
-- KEYS[1] head hash, KEYS[2] index zset, KEYS[3] writes zset, KEYS[4] a segment: the active
--         one, or the sealed one numbered ARGV[3]
-- ARGV[1] namespace, ARGV[2] checkpoint id or "" for the newest in the namespace,
-- ARGV[3] "" or the sealed segment's number
-- Returns the checkpoint as entry() writes it; {id, n} when it is in segment n instead
-- (the client reads it there); {} when there is none.
local head, index = KEYS[1], KEYS[2]
local ns = ARGV[1]
local h = redis.call('HMGET', head, 'sn', 's:' .. ns .. '\0' .. ARGV[2])
local member, at = nil, h[2]
if ARGV[2] ~= '' then
  member = ns .. '\0' .. ARGV[2]
else  -- the newest id that has a segment: lg_list.lua skips the others too
  local top = '[' .. ns .. '\0\255'
  repeat
    local batch = redis.call('ZREVRANGEBYLEX', index, top, '[' .. ns .. '\0', 'LIMIT', 0, 10)
    for _, m in ipairs(batch) do
      at = redis.call('HGET', head, 's:' .. m)
      if at then
        member = m
        break
      end
    end
    top = batch[#batch] and '(' .. batch[#batch]
  until member or #batch < 10
end
if not member or not at then
  return {}
end
if at ~= (ARGV[3] ~= '' and ARGV[3] or h[1] or '0') then
  return {string.sub(member, #ns + 2), tonumber(at)}
end
local out = {}
entry(out, {}, KEYS[4], KEYS[3], ns, member, false)
return out
