#!lua
-- Put a staged copy in the target thread's place, in one call (refused under OOM).
-- KEYS: the target's keys (head, index, writes, active, then its sealed segments ARGV[1]
--   to ARGV[2] - 1), then the staged keys (head, index, writes, active, then the copy's
--   sealed segments ARGV[3] to ARGV[4] - 1), then the target's names for those segments,
--   then this copy's mark
-- ARGV[1], ARGV[2] the target head's "s0" and "sn" as the caller read them; ARGV[3],
-- ARGV[4] the copy's; ARGV[5] TTL in ms (0: none); ARGV[6] how long the mark stays (the
-- replay window), ARGV[7] "1" when a WAIT follows; ARGV[8..] the snapshot's counts, one per
-- staged key
-- Returns 1 when committed; 0 when the staged keys are gone and the mark is there (a replay
-- of a commit whose reply was lost); {-1, s0, sn} when the target's sealed segments are not
-- those given. When a staged key is short (it expired, a page went missing), an error, and
-- nothing changes.
local targets = 4 + tonumber(ARGV[2]) - tonumber(ARGV[1])
local staged = 4 + tonumber(ARGV[4]) - tonumber(ARGV[3])
local mark = KEYS[#KEYS]
local h = redis.call('HMGET', KEYS[1], 's0', 'sn')
if (h[1] or '0') ~= ARGV[1] or (h[2] or '0') ~= ARGV[2] then
  return {-1, h[1] or '0', h[2] or '0'}
end
local short, empty = nil, true
for i = 1, staged do
  local key = KEYS[targets + i]
  local kind = redis.call('TYPE', key)['ok']
  local have = kind == 'hash' and redis.call('HLEN', key) or (kind == 'zset' and redis.call('ZCARD', key) or 0)
  if have > 0 then
    empty = false
  end
  if have ~= tonumber(ARGV[7 + i]) then
    short = short or (i .. ': ' .. have .. ' of ' .. ARGV[7 + i])
  end
end
if short then
  if empty and redis.call('EXISTS', mark) == 1 then
    if ARGV[7] == '1' then  -- a write on this connection for the WAIT to count
      redis.call('PEXPIRE', mark, ARGV[6])
    end
    return 0
  end
  return redis.error_reply('ERR copy incomplete: staged key ' .. short .. ' fields or members; ' ..
    'the target was left as it was')
end
redis.call('UNLINK', unpack(KEYS, 1, targets))  -- a large old target is freed off the main thread
local names = {KEYS[1], KEYS[2], KEYS[3], KEYS[4]}
for i = 5, staged do
  names[i] = KEYS[targets + staged + i - 4]
end
for i = 1, staged do
  if redis.call('EXISTS', KEYS[targets + i]) == 1 then
    redis.call('RENAME', KEYS[targets + i], names[i])
  end
end
local ttl = tonumber(ARGV[5])
local t = redis.call('TIME')
redis.call('HSET', names[1], 'x', ttl, 'st', ttl, 'rt', t[1] * 1000 + math.floor(t[2] / 1000))
for i = 1, staged do
  if ttl > 0 then
    redis.call('PEXPIRE', names[i], i <= 4 and ttl or 2 * ttl)
  else
    redis.call('PERSIST', names[i])
  end
end
redis.call('SET', mark, 1, 'PX', ARGV[6])
return 1
