#!lua
-- Commit one checkpoint of a thread (layout in docs/design.md). Nothing is written before
-- the checks pass. A small state comes in ARGV[7]: it becomes the head's "state" (loads of
-- the latest read it with one HMGET) and goes to the active segment under ARGV[2], unless
-- only the newest checkpoint is kept. A large state was written to the active segment by an
-- HSET before this script in the same transaction; this script deletes it if nothing is saved.
-- KEYS[1] head hash, KEYS[2] history zset (records by commit number), KEYS[3] active segment
-- ARGV[1] checkpoint id, ARGV[2] its state's field (the record holds "" when it is the id),
-- ARGV[3] the state's bytes
-- ARGV[4] expected current id: "" any, " " none (the thread must have no checkpoint)
-- ARGV[5] framed metadata, after "v<state version>\n" when the checkpointer records one
-- ARGV[6] "<TTL ms, 0: none> <keep the newest N, 0: all> <replay window ms> <1 when a WAIT
--         follows, else 0> <seal at this many checkpoints> <or this many bytes>"
-- ARGV[7] the state, when it is small
-- Returns the record when saved; {0, record} when the id was saved already; {-1, current id}
-- on a conflict; {1, record, work...} when the client has work to do next ("seal <n>",
-- "drop <n>...", "refresh <first> <end>": segments.py).
local head, history, active = KEYS[1], KEYS[2], KEYS[3]
local id, field, inline = ARGV[1], ARGV[2], ARGV[7]
local h = redis.call('HMGET', head, 'cur', 'seq', 'i:' .. id, 't:' .. id, 'sn', 'sc', 'sb', 'x', 'v', 'hs')
if h[9] and h[9] ~= '2' then
  return redis.error_reply('ERR thread ' .. head .. ' has layout ' .. h[9] .. ': this version reads layout 2')
end
local ttl, keep, window, wait, most, bytes = string.match(ARGV[6], '^(%d+) (%d+) (%d+) (%d) (%d+) (%d+)$')
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local stored
if h[3] then
  stored = redis.call('ZRANGE', history, h[3], h[3], 'BYSCORE')[1]
elseif h[4] then  -- removed by retention: still within the replay window?
  local expiry, rec = string.match(h[4], '^(%d+)\n(.*)$')
  if tonumber(expiry) > now then
    stored = rec
  end
end
if stored then
  -- The state this call wrote stays only if it is the stored one: the same field in the
  -- active segment (a re-sent call), not sealed meanwhile, nor removed by retention.
  local seg, kept = string.match(stored, '^[^\n]*\n([^\n]*)\n([^\n]*)\n')
  if not inline and (not h[3] or seg ~= (h[5] or '0') or (kept == '' and id or kept) ~= field) then
    redis.call('HDEL', active, field)
  end
  if wait == '1' then  -- a write on this connection for the WAIT to count
    redis.call('HSET', head, 'seq', h[2])
  end
  return {0, stored}
end
local cur, want = h[1], ARGV[4]
if (want == ' ' and cur) or (want ~= '' and want ~= ' ' and cur ~= want) then
  if not inline then
    redis.call('HDEL', active, field)
  end
  return {-1, cur or false}
end
if h[4] then  -- a stale "t:<id>": the id is saved anew
  redis.call('HDEL', head, 't:' .. id)
end
keep, ttl = tonumber(keep), tonumber(ttl)
local sn, seq = h[5] or '0', (tonumber(h[2]) or 0) + 1
local sc, sb = tonumber(h[6]) or 0, tonumber(h[7]) or 0
if h[10] == '1' and keep ~= 1 then
  -- the previous checkpoint's state was only in the head (a save that kept one): it stays
  -- in the history now, so it moves to the active segment
  local prev = redis.call('HGET', head, 'rec')
  local pid, pfield, rest = string.match(prev, '^([^\n]*)\nh\n([^\n]*)\n(.*)$')
  local moved = pid .. '\n' .. sn .. '\n' .. pfield .. '\n' .. rest
  redis.call('HSET', active, pfield == '' and pid or pfield, redis.call('HGET', head, 'state'))
  redis.call('ZREM', history, prev)
  redis.call('ZADD', history, seq - 1, moved)
  sc, sb = sc + 1, sb + tonumber(string.match(rest, '^(%d+)\n'))
end
local at = sn
if inline and keep == 1 then
  at = 'h'
else
  sc, sb = sc + 1, sb + tonumber(ARGV[3])
end
local rec = id .. '\n' .. at .. '\n' .. (field == id and '' or field) .. '\n' .. ARGV[3] .. '\n' .. t[1] .. ' ' .. t[2] .. '\n' ..
  (cur or '') .. '\n' .. ARGV[5]
local once = h[9] and h[8] == tostring(ttl) and (at == 'h') == (h[10] == '1')  -- else: the fields below too
if inline then
  if once then
    redis.call('HSET', head, 'cur', id, 'seq', seq, 'rec', rec, 'state', inline, 'i:' .. id, seq, 'sc', sc,
      'sb', sb)
  else
    redis.call('HSET', head, 'cur', id, 'seq', seq, 'rec', rec, 'state', inline, 'i:' .. id, seq, 'sc', sc,
      'sb', sb, 'x', ttl, 'v', '2', 'hs', at == 'h' and 1 or 0)
  end
  if at ~= 'h' then
    redis.call('HSET', active, field, inline)
  end
else
  redis.call('HSET', head, 'cur', id, 'seq', seq, 'rec', rec, 'i:' .. id, seq, 'sc', sc, 'sb', sb, 'x', ttl,
    'v', '2', 'hs', 0)
  redis.call('HDEL', head, 'state')  -- a large state is read from the active segment
end
redis.call('ZADD', history, seq, rec)
if ttl > 0 then
  redis.call('PEXPIRE', head, ttl)
  redis.call('PEXPIRE', history, ttl)
  redis.call('PEXPIRE', active, ttl)
elseif h[8] and h[8] ~= '0' then
  redis.call('PERSIST', head)
  redis.call('PERSIST', history)
  redis.call('PERSIST', active)
end
if keep == 0 and sc < tonumber(most) and sb < tonumber(bytes) and (not h[5] or (ttl == 0 and h[8] == '0')) then
  return rec  -- no retention, nothing to seal, no sealed segment's TTL to mind: the usual case
end
local g = redis.call('HMGET', head, 'tl', 's0', 'dz', 'st', 'rt')
local state = {tl = tonumber(g[1]) or 1, sn = tonumber(sn), sc = sc, sb = sb, dz = g[3] or ''}
if keep > 0 then
  retain(state, keep, tonumber(window), now)
end
local s0 = tonumber(g[2]) or 0
local reply = {1, rec}
if state.sc >= 2 and (state.sc >= tonumber(most) or state.sb >= tonumber(bytes)) then
  reply[#reply + 1] = 'seal ' .. sn
end
if state.dz ~= '' then
  reply[#reply + 1] = 'drop' .. state.dz
end
if s0 < state.sn and (g[4] ~= tostring(ttl) or (ttl > 0 and now - (tonumber(g[5]) or 0) >= ttl)) then
  reply[#reply + 1] = 'refresh ' .. s0 .. ' ' .. sn
end
return reply
