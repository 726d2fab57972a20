#!lua flags=allow-oom
-- Clear the parent of a LangGraph checkpoint whose parent prune removed, as LangGraph's
-- Postgres saver does, so its parent_config names no checkpoint that is gone.
-- The record is replaced only if it is still the one the client read (and rewrote).
-- KEYS[1] head hash, KEYS[2] the checkpoint's segment
-- ARGV[1] member "<ns>\0<id>", ARGV[2] the record as read, ARGV[3] the same without a parent
-- Returns 1 when replaced, 0 when the record changed or went meanwhile (left alone).
if redis.call('HGET', KEYS[2], 'c:' .. ARGV[1]) ~= ARGV[2] then
  return 0
end
redis.call('HSET', KEYS[2], 'c:' .. ARGV[1], ARGV[3])
return 1
