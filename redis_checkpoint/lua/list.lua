#!lua flags=no-writes
-- A page of a thread's history just before a given checkpoint, newest first in commit order
-- (read-only). Pages from the newest need no script: one ZRANGE of the history.
-- KEYS[1] head hash, KEYS[2] history zset (records scored by commit number)
-- ARGV[1] the checkpoint id to start just before, ARGV[2] page size (1 to 1000)
-- Returns the records with their scores, as ZRANGE ... WITHSCORES does; nil when ARGV[1]
-- is not in the history. A record opens with its id.
local seq = redis.call('HGET', KEYS[1], 'i:' .. ARGV[1])
if not seq then
  return false
end
return redis.call('ZRANGE', KEYS[2], '(' .. seq, '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, tonumber(ARGV[2]),
  'WITHSCORES')
