#!lua
-- Every write to a LangGraph thread, one atomic call each (flags: refused under OOM).
-- KEYS[1] data hash, KEYS[2] index zset, KEYS[3] writes zset (layout: lg_read.lua)
-- ARGV[1] operation, ARGV[2] TTL in ms ("0": make the keys persistent),
-- ARGV[3] "1" when a WAIT follows (see save.lua's ARGV[8]; here every call writes anyway)
-- "put":    ARGV[4] member <ns>\0<id>, ARGV[5] record, ARGV[6] blob fields joined by "\n",
--           ARGV[7] keep the newest N of the namespace ("0": all), then field, blob pairs
--           for the new blobs. Blobs are reference-counted ("r:<field>") by the
--           checkpoints that list them, and deleted when no checkpoint does.
-- "writes": ARGV[4] checkpoint member, then triples (write member, value, "1" if it may
--           replace an existing write): regular writes are never replaced, so a
--           retried task cannot change what it wrote.
-- "remove": ARGV[4..] checkpoint members to delete with their writes.
-- "keep_latest": keep only the newest checkpoint of every namespace, removing at most
--           TRIM (below): the caller calls again while TRIM went.
-- "copy":   ARGV[4] n, ARGV[5] m, then n field, value pairs for the hash, m index
--           members, then writes members: this thread becomes a copy of a thread
--           read by lg_read.lua's "dump".
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
  redis.call('HDEL', data, 'c:' .. member, 'v:' .. member)
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

local removed = 0
if op == 'put' then
  local member = ARGV[4]
  local old = redis.call('HGET', data, 'v:' .. member)
  for i = 8, #ARGV, 2 do
    redis.call('HSET', data, ARGV[i], ARGV[i + 1])
  end
  for field in string.gmatch(ARGV[6], '[^\n]+') do
    redis.call('HINCRBY', data, 'r:' .. field, 1)
  end
  release(old)  -- a re-put of the same id replaces its references
  redis.call('HSET', data, 'c:' .. member, ARGV[5], 'v:' .. member, ARGV[6])
  redis.call('ZADD', index, 0, member)
  local keep = tonumber(ARGV[7])
  if keep > 0 then
    local ns = string.sub(member, 1, string.find(member, '\0', 1, true) - 1)
    local low, high = '[' .. ns .. '\0', '[' .. ns .. '\0\255'
    local excess = math.min(redis.call('ZLEXCOUNT', index, low, high) - keep, TRIM)
    if excess > 0 then
      for _, old_member in ipairs(redis.call('ZRANGEBYLEX', index, low, high, 'LIMIT', 0, excess)) do
        removed = removed + remove(old_member)
      end
    end
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
  local from = '-'
  while removed < TRIM do
    local first = redis.call('ZRANGEBYLEX', index, from, '+', 'LIMIT', 0, 1)[1]
    if not first then
      break
    end
    local ns = string.sub(first, 1, string.find(first, '\0', 1, true) - 1)
    local low, high = '[' .. ns .. '\0', '[' .. ns .. '\0\255'
    local excess = math.min(redis.call('ZLEXCOUNT', index, low, high) - 1, TRIM - removed)
    if excess > 0 then  -- the oldest first, so the newest stays
      for _, old_member in ipairs(redis.call('ZRANGEBYLEX', index, low, high, 'LIMIT', 0, excess)) do
        removed = removed + remove(old_member)
      end
    end
    from = '(' .. ns .. '\0\255'
  end
elseif op == 'copy' then
  redis.call('UNLINK', data, index, writes)  -- a large old target is freed off the main thread
  local n, m = tonumber(ARGV[4]), tonumber(ARGV[5])
  for i = 6, 5 + 2 * n, 2 do
    redis.call('HSET', data, ARGV[i], ARGV[i + 1])
  end
  for i = 6 + 2 * n, #ARGV do
    redis.call('ZADD', i < 6 + 2 * n + m and index or writes, 0, ARGV[i])
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
