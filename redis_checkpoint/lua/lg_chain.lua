#!lua flags=no-writes
-- Read a LangGraph checkpoint and its ancestors through their delta links (read-only), for
-- get_delta_channel_history: as far as the checkpoint's own link's depth and at most
-- ARGV[4] of them; a checkpoint put without a link ends the walk.
-- KEYS[1] head hash, KEYS[2] writes zset, KEYS[3] a segment: the active one, or the sealed
--         one numbered ARGV[3]
-- ARGV[1] namespace, ARGV[2] the checkpoint's id, ARGV[3] "" or the sealed segment's number,
-- ARGV[4] most ancestors to return
-- Returns entries as entry() writes them, nearest first; where one is in another segment,
-- the walk stops with {id, n} for it (the client goes on from there); {} when there is none.
local head, ns = KEYS[1], ARGV[1]
local seg = ARGV[3]
if seg == '' then
  seg = redis.call('HGET', head, 'sn') or '0'
end
local out, sent = {}, {}

local function visit(member)  -- the checkpoint's link, or nil when the walk ends here
  local h = redis.call('HMGET', head, 's:' .. member, 'p:' .. member)
  if not h[1] then
    return nil
  end
  if h[1] ~= seg then
    out[#out + 1] = string.sub(member, #ns + 2)
    out[#out + 1] = tonumber(h[1])
    return nil
  end
  entry(out, sent, KEYS[3], KEYS[2], ns, member, false)
  return h[2]
end

local link = visit(ns .. '\0' .. ARGV[2])
local left = link and math.min(tonumber(string.match(link, '^(%d+)\n')), tonumber(ARGV[4])) or 0
while left > 0 and link do
  link = visit(ns .. '\0' .. string.match(link, '\n(.*)$'))
  left = left - 1
end
return out
