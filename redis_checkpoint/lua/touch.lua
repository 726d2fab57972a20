#!lua flags=allow-oom
-- Slide the TTL of every key of a thread (the LangGraph saver's reads with
-- refresh_ttl_on_read: get_tuple and get_delta_channel_history). Flagged
-- allow-oom: a PEXPIRE stores only a time, and Redis takes a plain PEXPIRE over
-- maxmemory too, so a read that slides the TTL must not fail where the same read
-- without it works.
-- KEYS    every key of the thread (all in one hash slot)
-- ARGV[1] TTL in milliseconds (> 0)
-- Returns the number of keys whose TTL was set (missing keys are left alone).
local n = 0
for i = 1, #KEYS do
  n = n + redis.call('PEXPIRE', KEYS[i], ARGV[1])
end
return n
