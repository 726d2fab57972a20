-- Shared by lg_put.lua, lg_remove.lua and lg_keep_latest.lua (scripts.py puts this text in
-- front of theirs). KEYS[1..4] are, in all three, the head hash, the index zset, the writes
-- zset and the active segment (layout in docs/design.md). S holds the head's "sn" (the
-- active segment's number), "sc" (checkpoints in it) and "dz" (sealed segments to drop).
local TRIM = 250  -- checkpoints one call removes at most, so no call holds Redis for long
local head, index, writes, active = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local S = {}

local function load_state()
  local h = redis.call('HMGET', head, 'sn', 'sc', 'dz', 'v')
  if h[4] and h[4] ~= '2' then
    error({err = 'ERR thread ' .. head .. ' has layout ' .. h[4] .. ': this version reads layout 2'})
  end
  S.sn, S.sc, S.dz = h[1] or '0', tonumber(h[2]) or 0, h[3] or ''
end

-- Count down the blobs a checkpoint in the active segment used; delete those none uses.
local function release(fields_text)
  for field in string.gmatch(fields_text or '', '[^\n]+') do
    if redis.call('HINCRBY', active, 'r:' .. field, -1) <= 0 then
      redis.call('HDEL', active, field, 'r:' .. field)
    end
  end
end

-- A sealed segment lost a checkpoint: once it has none, list it for drop.lua.
local function count_down(seg)
  if redis.call('HINCRBY', head, 'g:' .. seg, -1) <= 0 then
    redis.call('HDEL', head, 'g:' .. seg)
    S.dz = S.dz .. ' ' .. seg
  end
end

-- Remove one checkpoint (member "<ns>\0<id>") with its writes. Its data in a sealed segment
-- stays until the whole segment goes.
local function remove(member)
  local seg = redis.call('HGET', head, 's:' .. member)
  if not seg and redis.call('ZSCORE', index, member) == false then
    return 0
  end
  local low, high = '[' .. member .. '\0', '[' .. member .. '\0\255'
  if seg == S.sn then
    release(redis.call('HGET', active, 'v:' .. member))
    redis.call('HDEL', active, 'c:' .. member, 'v:' .. member)
    local ws = redis.call('ZRANGEBYLEX', writes, low, high)
    for i = 1, #ws, 500 do
      local fields = {}
      for j = i, math.min(i + 499, #ws) do
        fields[#fields + 1] = 'w:' .. ws[j]
      end
      redis.call('HDEL', active, unpack(fields))
    end
    S.sc = S.sc - 1
  elseif seg then
    count_down(seg)
  end
  redis.call('HDEL', head, 's:' .. member, 'p:' .. member)
  redis.call('ZREM', index, member)
  redis.call('ZREMRANGEBYLEX', writes, low, high)
  return 1
end

-- The delta chains of the checkpoints kept. LangGraph's DeltaChannel stores a value only
-- every so many steps and rebuilds it from the writes of the ancestors since, found through
-- parent links. A checkpoint whose metadata counts steps since such a snapshot is put with
-- "p:<m>" = "<depth>\n<parent id>" (depth: the most steps any channel is from its snapshot);
-- its chain is its ancestors up to depth links back, stopping at one put without a link.
-- Removing any of them would rebuild those channels from nothing. "d:<ns>" marks a namespace
-- that ever had a link. Returns the union of the chains of `kept` (members of namespace
-- prefix `ns0`) as a set, and its size; `reach` keeps how many links were still to follow
-- from each member reached, so overlapping chains are walked once.
local function chains(ns0, kept)
  local spared, reach, n = {}, {}, 0
  for i = 1, #kept, 500 do
    local names = {}
    for j = i, math.min(i + 499, #kept) do
      names[#names + 1] = 'p:' .. kept[j]
    end
    local links = redis.call('HMGET', head, unpack(names))
    for j = 1, #names do
      local link = links[j]
      local left = link and tonumber(string.match(link, '^(%d+)\n')) or 0
      while left > 0 do
        local parent = ns0 .. string.match(link, '\n(.*)$')
        left = left - 1
        if (reach[parent] or -1) >= left then
          break
        end
        reach[parent] = left
        if not spared[parent] then
          spared[parent], n = true, n + 1
        end
        link = redis.call('HGET', head, 'p:' .. parent)
        if not link then
          break
        end
      end
    end
  end
  return spared, n
end

-- Remove the oldest checkpoints of namespace `ns` beyond its newest `keep`, at most
-- `budget`, sparing the delta chains of those kept.
local function trim(ns, keep, budget)
  local low, high = '[' .. ns .. '\0', '[' .. ns .. '\0\255'
  local excess = redis.call('ZLEXCOUNT', index, low, high) - keep
  if excess <= 0 or budget <= 0 then
    return 0
  end
  local spared, n = {}, 0
  if redis.call('HEXISTS', head, 'd:' .. ns) == 1 then  -- a link was ever put here
    spared, n = chains(ns .. '\0', redis.call('ZREVRANGEBYLEX', index, high, low, 'LIMIT', 0, keep))
  end
  local count = 0
  -- the spared are at most n of the oldest: reading budget + n finds `budget` others
  for _, old in ipairs(redis.call('ZRANGEBYLEX', index, low, high, 'LIMIT', 0, math.min(excess, budget + n))) do
    if count >= budget then
      break
    end
    if not spared[old] then
      count = count + remove(old)
    end
  end
  return count
end

-- Write S back, and list the work the client is to do next (as segments.py reads it).
local function finish(reply)
  redis.call('HSET', head, 'sc', S.sc, 'dz', S.dz)
  if S.dz ~= '' then
    reply[#reply + 1] = 'drop' .. S.dz
  end
  return reply
end

