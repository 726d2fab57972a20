#!lua
-- Every write to a LangGraph thread, one atomic call each (flags: refused under OOM).
-- KEYS[1] data hash, KEYS[2] index zset, KEYS[3] writes zset (layout: lg_read.lua)
-- ARGV[1] operation, ARGV[2] TTL in ms ("0": make the keys persistent),
-- ARGV[3] "1" when a WAIT follows (see save.lua's ARGV[8]; here every call writes anyway)
-- "put":    ARGV[4] member <ns>\0<id>, ARGV[5] record, ARGV[6] blob fields joined by "\n",
--           ARGV[7] keep the newest N of the namespace ("0": all), ARGV[8] the delta link
--           "<depth>\n<parent id>" or "" (see chains() below), then field, blob pairs
--           for the new blobs. Blobs are reference-counted ("r:<field>") by the
--           checkpoints that list them, and deleted when no checkpoint does.
-- "writes": ARGV[4] checkpoint member, then triples (write member, value, "1" if it may
--           replace an existing write): regular writes are never replaced, so a
--           retried task cannot change what it wrote.
-- "remove": ARGV[4..] checkpoint members to delete with their writes.
-- "keep_latest": ARGV[4..] namespaces (a page of lg_read.lua's "namespaces"): keep
--           only the newest checkpoint of each (and its delta chain), removing at most
--           TRIM (below): the caller calls again with the same page while TRIM went.
-- Returns the number of checkpoints removed (0 for other operations).
local data, index, writes = KEYS[1], KEYS[2], KEYS[3]
local op = ARGV[1]
-- Most checkpoints removed by one "put" (retention) or "keep_latest": about 5 ms
-- of server time, where 20,000 took 0.43 s in one call and blocked every other
-- client. A longer backlog goes over the next puts. scripts.LG_TRIM holds the same number.
local TRIM = 250

local function release(fields_text)
  for field in string.gmatch(fields_text or '', '[^\n]+') do
    if redis.call('HINCRBY', data, 'r:' .. field, -1) <= 0 then
      redis.call('HDEL', data, field, 'r:' .. field)
    end
  end
end

local function remove(member)
  local vlist = redis.call('HGET', data, 'v:' .. member)
  if not vlist and redis.call('ZSCORE', index, member) == false then
    return 0
  end
  release(vlist)
  redis.call('HDEL', data, 'c:' .. member, 'v:' .. member, 'p:' .. member)
  redis.call('ZREM', index, member)
  local low, high = '[' .. member .. '\0', '[' .. member .. '\0\255'
  local ws = redis.call('ZRANGEBYLEX', writes, low, high)
  for i = 1, #ws, 500 do
    local fields = {}
    for j = i, math.min(i + 499, #ws) do
      fields[#fields + 1] = 'w:' .. ws[j]
    end
    redis.call('HDEL', data, unpack(fields))
  end
  redis.call('ZREMRANGEBYLEX', writes, low, high)
  return 1
end

-- The delta chains of the checkpoints kept. LangGraph's DeltaChannel stores a value
-- only every so many steps and rebuilds it from the writes of the ancestors since,
-- found through parent links. A checkpoint whose metadata counts steps since such a
-- snapshot ("counters_since_delta_snapshot") is put with "p:<m>" = "<depth>\n<parent
-- id>", depth being the most steps any channel is from its snapshot. Its chain is its
-- ancestors up to depth links back, stopping at one put without a link (every channel
-- snapshotted there). Removing any of them would rebuild those channels from nothing
-- when the checkpoint is read. "d:<ns>" marks a namespace that ever had a link, so
-- graphs without delta channels skip this. Returns the union of the chains of `kept`
-- (members of namespace prefix `ns0`) as a set, and its size; `reach` keeps how many
-- links were still to follow from each member reached, so overlapping chains are
-- walked once.
local function chains(ns0, kept)
  local spared, reach, n = {}, {}, 0
  for i = 1, #kept, 500 do
    local names = {}
    for j = i, math.min(i + 499, #kept) do
      names[#names + 1] = 'p:' .. kept[j]
    end
    local links = redis.call('HMGET', data, unpack(names))
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
        link = redis.call('HGET', data, 'p:' .. parent)
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
  if redis.call('HEXISTS', data, 'd:' .. ns) == 1 then  -- a link was ever put here
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

local removed = 0
if op == 'put' then
  local member = ARGV[4]
  local ns = string.sub(member, 1, string.find(member, '\0', 1, true) - 1)
  local old = redis.call('HGET', data, 'v:' .. member)
  for i = 9, #ARGV, 2 do
    redis.call('HSET', data, ARGV[i], ARGV[i + 1])
  end
  for field in string.gmatch(ARGV[6], '[^\n]+') do
    redis.call('HINCRBY', data, 'r:' .. field, 1)
  end
  release(old)  -- a re-put of the same id replaces its references
  redis.call('HSET', data, 'c:' .. member, ARGV[5], 'v:' .. member, ARGV[6])
  if ARGV[8] ~= '' then
    redis.call('HSET', data, 'p:' .. member, ARGV[8], 'd:' .. ns, 1)
  else
    redis.call('HDEL', data, 'p:' .. member)
  end
  redis.call('ZADD', index, 0, member)
  local keep = tonumber(ARGV[7])
  if keep > 0 then
    removed = trim(ns, keep, TRIM)
  end
elseif op == 'writes' then
  for i = 5, #ARGV, 3 do
    local field = 'w:' .. ARGV[i]
    if ARGV[i + 2] == '1' or redis.call('HEXISTS', data, field) == 0 then
      redis.call('HSET', data, field, ARGV[i + 1])
      redis.call('ZADD', writes, 0, ARGV[i])
    end
  end
elseif op == 'remove' then
  for i = 4, #ARGV do
    removed = removed + remove(ARGV[i])
  end
elseif op == 'keep_latest' then
  for i = 4, #ARGV do
    if removed >= TRIM then
      break
    end
    removed = removed + trim(ARGV[i], 1, TRIM - removed)
  end
else
  return redis.error_reply('ERR unknown operation ' .. tostring(op))
end

local ttl = tonumber(ARGV[2])
if ttl > 0 then
  redis.call('PEXPIRE', data, ttl)
  redis.call('PEXPIRE', index, ttl)
  redis.call('PEXPIRE', writes, ttl)
else
  redis.call('PERSIST', data)
  redis.call('PERSIST', index)
  redis.call('PERSIST', writes)
end
return removed
