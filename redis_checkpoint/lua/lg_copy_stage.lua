#!lua
-- Write one page of a copy into a staging key, in the target's slot (refused under OOM).
-- KEYS[1] the staging key
-- ARGV[1] "hash" or "zset", ARGV[2] how long the staging key lives, in ms,
-- ARGV[3..] field, value pairs (hash) or members (zset, all scored 0)
-- Returns 0.
if ARGV[1] == 'hash' then
  for i = 3, #ARGV, 2 do
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
else
  for i = 3, #ARGV do
    redis.call('ZADD', KEYS[1], 0, ARGV[i])
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 0
