#!lua
-- Save one checkpoint of one thread, atomically (flags: may write, refused under OOM).
-- With an empty ARGV[1] it saves nothing and only applies retention (the CLI's prune);
-- scripts.py also loads this file with flags=allow-oom for that call alone, since it frees memory.
-- KEYS[1] thread hash: "current" (id), "seq", "record" and "state" of the current
--         checkpoint, "m:<id>" (record) of every checkpoint and "s:<id>" (framed
--         state) of every older one: the current state moves to "s:<id>" when
--         superseded, so loading the latest is one plain HMGET
--         (current, record, state) with no script. "t:<id>" keeps the record of
--         a checkpoint that retention removed, for the replay window (ARGV[9])
-- KEYS[2] history zset: checkpoint id -> commit sequence (1, 2, ...); an id whose
--         "t:<id>" is kept scores minus the time (ms) it may go. No third key:
--         a key that is usually missing would make every script call TRYAGAIN
--         while a Redis Cluster slot migrates
-- ARGV[1] checkpoint id (client-generated: a replayed call finds it and writes nothing,
--         even after retention removed it, within the replay window); "" for retention only
-- ARGV[2] compare-and-set mode: "" none, "0" thread must be empty, "1" current must be ARGV[3]
-- ARGV[3] expected current id (mode "1")
-- ARGV[4] framed state
-- ARGV[5] framed metadata ("" for none)
-- ARGV[6] TTL in milliseconds, "0" for none (the keys are then made persistent)
-- ARGV[7] retention: keep the newest N checkpoints, "0" for all (at least 1 when ARGV[1] is "");
--         one call removes at most TRIM of the excess (below)
-- ARGV[8] "1" when a WAIT follows (min_replicas): a replay then rewrites "seq" to
--         its own value, so the WAIT on this connection has a write to count
-- ARGV[9] replay window in milliseconds: how long "t:<id>" outlives its checkpoint
-- Returns {1, record} when saved, {0, record} when the id was already saved (no new write),
-- {-1, current id or nil} on a compare-and-set conflict (no write); with an empty
-- ARGV[1], the number of checkpoints removed (TRIM means more may be left).
-- record = "<created µs>\n<state bytes>\n<parent id>\n<framed metadata>"
local thread, history = KEYS[1], KEYS[2]
local keep, window = tonumber(ARGV[7]), tonumber(ARGV[9])

-- Most checkpoints one call removes: about 6 ms of server time, where the
-- 200,000 of a long thread took 1.3 s in one call and blocked every other
-- client. A longer backlog (retention lowered on a long thread) goes over the
-- next saves, or at once with admin.prune, which calls again while TRIM went.
-- scripts.TRIM must hold the same number.
local TRIM = 1000

local function to_ms(t)  -- a TIME reply in milliseconds
  return t[1] * 1000 + math.floor(t[2] / 1000)
end

-- Remove the oldest checkpoints beyond `keep`, at most TRIM, each leaving its
-- record as "t:<id>" until now + window; then drop the "t:<id>" whose time has
-- come. In chunks of 500, so unpack() never exceeds Lua's stack.
local function retain(now)
  local removed = 0
  local excess = math.min(redis.call('ZCOUNT', history, '(0', '+inf') - keep, TRIM)
  while excess > 0 do
    local old = redis.call('ZRANGE', history, '(0', '+inf', 'BYSCORE', 'LIMIT', 0, math.min(excess, 500))
    local names = {}
    for i = 1, #old do
      names[i] = 'm:' .. old[i]
    end
    local recs = redis.call('HMGET', thread, unpack(names))
    local gone, tombs, scores, lost, n = {}, {}, {}, {}, 0
    for i = 1, #old do
      gone[2 * i - 1] = names[i]
      gone[2 * i] = 's:' .. old[i]
      if recs[i] then
        tombs[n + 1], scores[n + 1] = 't:' .. old[i], -(now + window)
        tombs[n + 2], scores[n + 2] = recs[i], old[i]
        n = n + 2
      else  -- no record to keep: drop the entry
        lost[#lost + 1] = old[i]
      end
    end
    redis.call('HDEL', thread, unpack(gone))
    if n > 0 then
      redis.call('HSET', thread, unpack(tombs))
      redis.call('ZADD', history, unpack(scores))
    end
    if #lost > 0 then
      redis.call('ZREM', history, unpack(lost))
    end
    excess = excess - #old
    removed = removed + #old
  end
  local stale = redis.call('ZRANGE', history, -now, '(0', 'BYSCORE', 'LIMIT', 0, 500)
  if #stale > 0 then
    local fields = {}
    for i = 1, #stale do
      fields[i] = 't:' .. stale[i]
    end
    redis.call('HDEL', thread, unpack(fields))
    redis.call('ZREM', history, unpack(stale))
  end
  return removed
end

local id = ARGV[1]
if id == '' then
  if not keep or keep < 1 then
    return redis.error_reply('ERR keep must be at least 1')
  end
  return retain(to_ms(redis.call('TIME')))
end
local got = redis.call('HMGET', thread, 'm:' .. id, 'current', 'seq', 'state', 't:' .. id)
local known = got[1]
if not known and got[5] then  -- removed by retention: within the replay window?
  local score = tonumber(redis.call('ZSCORE', history, id))
  if score and -score > to_ms(redis.call('TIME')) then
    known = got[5]
  end
end
if known then
  if ARGV[8] == '1' then
    redis.call('HSET', thread, 'seq', got[3])
  end
  return {0, known}
end
local cur, mode = got[2], ARGV[2]
if (mode == '0' and cur) or (mode == '1' and cur ~= ARGV[3]) then
  return {-1, cur}
end
if got[5] then  -- a stale "t:<id>": the id is saved anew, its history score replaced below
  redis.call('HDEL', thread, 't:' .. id)
end
local ttl = tonumber(ARGV[6])
local seq = (tonumber(got[3]) or 0) + 1
local t = redis.call('TIME')
local now = t[1] .. string.format('%06d', t[2])
local rec = now .. '\n' .. #ARGV[4] .. '\n' .. (cur or '') .. '\n' .. ARGV[5]
if cur and got[4] then
  redis.call('HSET', thread, 'current', id, 'seq', seq, 'record', rec, 'state', ARGV[4],
    'm:' .. id, rec, 's:' .. cur, got[4])
else
  redis.call('HSET', thread, 'current', id, 'seq', seq, 'record', rec, 'state', ARGV[4],
    'm:' .. id, rec)
end
redis.call('ZADD', history, seq, id)
if keep > 0 then
  retain(to_ms(t))
end
if ttl > 0 then
  redis.call('PEXPIRE', thread, ttl)
  redis.call('PEXPIRE', history, ttl)
elseif redis.call('PTTL', thread) >= 0 then
  redis.call('PERSIST', thread)
  redis.call('PERSIST', history)
end
return {1, rec}
