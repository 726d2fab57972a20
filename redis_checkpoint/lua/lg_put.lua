#!lua
-- Put one LangGraph checkpoint into the active segment (refused before it starts under OOM);
-- a re-put of one that is in a sealed segment goes there, with its writes.
-- Every blob the checkpoint uses must be in its segment, so that each segment holds all
-- its checkpoints need: the new ones come with this call, the others were there for its
-- parent. When some are missing (the parent is in a sealed segment), nothing is written and
-- the reply lists them: the client copies them over (lg_rehome.lua) and puts again.
-- KEYS[1] head hash, KEYS[2] index zset, KEYS[3] writes zset, KEYS[4] active segment,
-- KEYS[5] the segment to put into: the active one again, or the sealed one numbered ARGV[8]
-- ARGV[1] member "<ns>\0<id>", ARGV[2] record, ARGV[3] the blob fields it uses, "\n"-joined,
-- ARGV[4] keep the newest N of the namespace (0: all), ARGV[5] the delta link or "",
-- ARGV[6] "<TTL ms, 0: none> <1 when a WAIT follows, else 0> <seal at this many checkpoints>
--         <or this many bytes>", ARGV[7] bytes this call adds, ARGV[8] "" or a sealed
--         segment's number, ARGV[9..] field, blob pairs of new blobs, when no HSET wrote
--         them before in this transaction
-- Returns {removed, work...} (work as in save.lua); {"need", field...}; or {"segment", n}
-- when the checkpoint is in sealed segment n (nothing is written: the client puts there).
load_state()
local member = ARGV[1]
local ns = string.sub(member, 1, string.find(member, '\0', 1, true) - 1)
local ttl, wait, most, bytes = string.match(ARGV[6], '^(%d+) (%d) (%d+) (%d+)$')
local h = redis.call('HMGET', head, 's:' .. member, 'x', 'sb', 's0', 'st', 'rt')
local target, old = ARGV[8] ~= '' and ARGV[8] or S.sn, h[1]
if (old or S.sn) ~= target then
  if target == S.sn then  -- blobs an HSET wrote before this call, for nothing: none counts them
    for field in string.gmatch(ARGV[3], '[^\n]+') do
      if redis.call('HEXISTS', active, 'r:' .. field) == 0 then
        redis.call('HDEL', active, field)
      end
    end
  end
  return {'segment', old}
end
local seg = KEYS[5]
local given = {}
for i = 9, #ARGV, 2 do
  given[ARGV[i]] = true
end
local fields, asked = {}, {}
for field in string.gmatch(ARGV[3], '[^\n]+') do
  fields[#fields + 1] = field
  if not given[field] then
    asked[#asked + 1] = field
  end
end
local need = {'need'}
for i = 1, #asked, 500 do
  local chunk = {unpack(asked, i, math.min(i + 499, #asked))}
  local found = redis.call('HMGET', seg, unpack(chunk))
  for j = 1, #chunk do
    if not found[j] then
      need[#need + 1] = chunk[j]
    end
  end
end
if #need > 1 then
  return need
end
for i = 9, #ARGV, 2 do
  redis.call('HSET', seg, ARGV[i], ARGV[i + 1])
end
if target == S.sn then
  for _, field in ipairs(fields) do
    redis.call('HINCRBY', active, 'r:' .. field, 1)
  end
  if old then  -- a re-put of the same id replaces its references
    release(redis.call('HGET', active, 'v:' .. member))
  else
    S.sc = S.sc + 1
  end
end
redis.call('HSET', seg, 'c:' .. member, ARGV[2], 'v:' .. member, ARGV[3])
local sb = (tonumber(h[3]) or 0) + (target == S.sn and tonumber(ARGV[7]) or 0)
if ARGV[5] ~= '' then
  redis.call('HSET', head, 's:' .. member, target, 'p:' .. member, ARGV[5], 'd:' .. ns, 1, 'sb', sb, 'x', ttl,
    'v', '2')
else
  redis.call('HSET', head, 's:' .. member, target, 'sb', sb, 'x', ttl, 'v', '2')
  redis.call('HDEL', head, 'p:' .. member)
end
redis.call('ZADD', index, 0, member)
local keep = tonumber(ARGV[4])
local removed = 0
if keep > 0 then
  removed = trim(ns, keep, TRIM)
end
ttl = tonumber(ttl)
for i = 1, 4 do  -- a sealed segment keeps its own TTL (refresh.lua)
  if ttl > 0 then
    redis.call('PEXPIRE', KEYS[i], ttl)
  elseif h[2] and h[2] ~= '0' then
    redis.call('PERSIST', KEYS[i])
  end
end
local reply = {removed}
if S.sc >= 2 and (S.sc >= tonumber(most) or sb >= tonumber(bytes)) then
  reply[#reply + 1] = 'seal ' .. S.sn
end
local s0 = tonumber(h[4]) or 0
if s0 < tonumber(S.sn) then
  local t = redis.call('TIME')
  if h[5] ~= tostring(ttl) or (ttl > 0 and t[1] * 1000 - (tonumber(h[6]) or 0) >= ttl) then
    reply[#reply + 1] = 'refresh ' .. s0 .. ' ' .. S.sn
  end
end
return finish(reply)
