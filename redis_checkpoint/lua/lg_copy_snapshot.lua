#!lua
-- Snapshot a LangGraph thread for copy_thread: COPY each of its keys to keys of this copy in
-- the same slot, so a put meanwhile is in the copy whole or not at all (refused under OOM).
-- KEYS[1..n] the source's keys: head, index, writes, active, then its sealed segments
--            ARGV[1] to ARGV[2] - 1; KEYS[n+1..2n] the snapshot keys, in the same order
-- ARGV[1] and ARGV[2] the source head's "s0" and "sn" as the caller read them,
-- ARGV[3] how long the snapshot keys live, in ms
-- Returns {-1, s0, sn} when the sealed segments are not those given (nothing is copied);
-- else how many fields or members each snapshot key holds (0 for a key that is not there).
local n = #KEYS / 2
local h = redis.call('HMGET', KEYS[1], 's0', 'sn')
if (h[1] or '0') ~= ARGV[1] or (h[2] or '0') ~= ARGV[2] then
  return {-1, h[1] or '0', h[2] or '0'}
end
local counts = {}
for i = 1, n do
  local kind = redis.call('TYPE', KEYS[i])['ok']
  counts[i] = 0
  if kind ~= 'none' then
    redis.call('COPY', KEYS[i], KEYS[n + i], 'REPLACE')  -- still grows with the thread, but runs in C
    redis.call('PEXPIRE', KEYS[n + i], ARGV[3])
    counts[i] = kind == 'hash' and redis.call('HLEN', KEYS[n + i]) or redis.call('ZCARD', KEYS[n + i])
  end
end
return counts
