-- retain(), shared by save.lua and prune.lua (scripts.py puts this text in front of theirs).
-- Removes the oldest checkpoints beyond the newest `keep`, at most TRIM in one call. Each
-- leaves "t:<id>" ("<expiry ms>\n<record>") for `window` ms, so a re-sent save still finds
-- it, and "q:<seq>" (its id), so such marks are dropped in order once their time has come.
-- A state in the active segment is deleted at once; a sealed segment is counted down
-- ("g:<n>") and, when none of its checkpoints is left, listed for drop.lua ("dz").
-- KEYS[1..3] are the head, the history and the active segment, as in both scripts.
-- `h` holds the head's tl, sn, sc, sb (numbers) and dz. Returns how many went and whether
-- more were due; the head's fields are written back, `h` updated.
local TRIM = 1000

local function retain(h, keep, window, now)
  local head, history, active = KEYS[1], KEYS[2], KEYS[3]
  local excess = redis.call('ZCARD', history) - keep
  local old = {}
  if excess > 0 then
    old = redis.call('ZRANGE', history, 0, math.min(excess, TRIM) - 1, 'WITHSCORES')
  end
  for from = 1, #old, 1000 do  -- in chunks, so unpack() stays within Lua's stack
    local gone, states, marks, counts = {}, {}, {}, {}
    for j = from, math.min(from + 999, #old), 2 do
      local rec, seq = old[j], old[j + 1]
      local id, seg, field, size = string.match(rec, '^([^\n]*)\n([^\n]*)\n([^\n]*)\n(%d+)\n')
      if seg == tostring(h.sn) then
        states[#states + 1] = field == '' and id or field
        h.sc, h.sb = h.sc - 1, h.sb - tonumber(size)
      elseif seg ~= 'h' then
        counts[seg] = (counts[seg] or 0) + 1
      end
      gone[#gone + 1] = 'i:' .. id
      local n = #marks
      marks[n + 1], marks[n + 2], marks[n + 3], marks[n + 4] = 't:' .. id, (now + window) .. '\n' .. rec,
        'q:' .. seq, id
    end
    redis.call('HDEL', head, unpack(gone))
    if #states > 0 then
      redis.call('HDEL', active, unpack(states))
    end
    for seg, n in pairs(counts) do
      if redis.call('HINCRBY', head, 'g:' .. seg, -n) <= 0 then
        redis.call('HDEL', head, 'g:' .. seg)
        h.dz = h.dz .. ' ' .. seg
      end
    end
    redis.call('HSET', head, 'sc', h.sc, 'sb', h.sb, 'dz', h.dz, unpack(marks))
  end
  if #old > 0 then
    redis.call('ZREMRANGEBYRANK', history, 0, #old / 2 - 1)
  end
  -- marks whose time has come, oldest first (their expiries grow with their seq)
  local first = redis.call('ZRANGE', history, 0, 0, 'WITHSCORES')[2]
  local stop = math.min((tonumber(first) or (tonumber(redis.call('HGET', head, 'seq')) or 0) + 1) - 1,
    h.tl + TRIM - 1)
  if h.tl <= stop then
    local names = {}
    for s = h.tl, stop do
      names[#names + 1] = 'q:' .. s
    end
    local ids = redis.call('HMGET', head, unpack(names))
    local marks = {}
    for j = 1, #ids do
      marks[j] = ids[j] and 't:' .. ids[j] or names[j]  -- a placeholder where the id is gone already
    end
    local found = redis.call('HMGET', head, unpack(marks))
    local done, tl = {}, h.tl
    for j = 1, #ids do
      local expiry = ids[j] and found[j] and tonumber(string.match(found[j], '^(%d+)\n'))
      if expiry and expiry > now then
        break
      end
      done[#done + 1] = names[j]
      if ids[j] then
        done[#done + 1] = marks[j]
      end
      tl = h.tl + j
    end
    if #done > 0 then
      redis.call('HDEL', head, unpack(done))
      h.tl = tl
      redis.call('HSET', head, 'tl', tl)
    end
  end
  return #old / 2, excess > TRIM
end

