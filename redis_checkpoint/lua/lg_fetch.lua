#!lua flags=no-writes
-- Read LangGraph checkpoints from one sealed segment (read-only): lg_list.lua's others.
-- KEYS[1] head hash, KEYS[2] writes zset, KEYS[3] the sealed segment numbered ARGV[2]
-- ARGV[1] namespace, ARGV[2] the segment's number, ARGV[3] "1" for records only,
-- ARGV[4..] checkpoint ids
-- Returns what entry() writes for each checkpoint still in that segment, in that order;
-- one that has moved or gone meanwhile is left out.
local ns, out, sent = ARGV[1], {}, {}
local names = {}
for i = 4, #ARGV do
  names[#names + 1] = 's:' .. ns .. '\0' .. ARGV[i]
end
local at = redis.call('HMGET', KEYS[1], unpack(names))
for i = 4, #ARGV do
  if at[i - 3] == ARGV[2] then
    entry(out, sent, KEYS[3], KEYS[2], ns, ns .. '\0' .. ARGV[i], ARGV[3] == '1')
  end
end
return out
