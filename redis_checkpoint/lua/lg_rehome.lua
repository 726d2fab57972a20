#!lua
-- Copy blobs a LangGraph put needs from a sealed segment into the active one (lg_put.lua
-- answered "need": the checkpoint's parent is in that sealed segment). Refused under OOM.
-- KEYS[1] head hash, KEYS[2] active segment, KEYS[3] the sealed segment
-- ARGV[1..] blob fields
-- Returns the number of blobs copied. The put that follows counts their references.
local copied = 0
for i = 1, #ARGV do
  if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 0 then
    local value = redis.call('HGET', KEYS[3], ARGV[i])
    if value then
      redis.call('HSET', KEYS[2], ARGV[i], value)
      copied = copied + 1
    end
  end
end
local ttl = tonumber(redis.call('HGET', KEYS[1], 'x') or '0')
if ttl > 0 and copied > 0 then
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return copied
