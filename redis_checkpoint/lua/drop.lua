#!lua flags=allow-oom
-- Unlink sealed segments none of whose checkpoints is left (they are listed in the head's
-- "dz"), then move the head's "s0" up to the lowest sealed segment still in use.
-- It only frees memory, so it may run while the server is over maxmemory.
-- KEYS[1] head hash, KEYS[2..] the sealed segments numbered ARGV[1..]
-- Returns the number of keys unlinked (a segment no longer listed is left alone).
local head = KEYS[1]
local h = redis.call('HMGET', head, 'dz', 's0', 'sn')
local due = {}
for n in string.gmatch(h[1] or '', '%d+') do
  due[n] = true
end
local gone = {}
for i = 1, #ARGV do
  if due[ARGV[i]] then
    due[ARGV[i]] = nil
    gone[#gone + 1] = KEYS[i + 1]
  end
end
local n = 0
if #gone > 0 then
  n = redis.call('UNLINK', unpack(gone))
end
local left = {}
for k in pairs(due) do
  left[#left + 1] = k
end
table.sort(left, function(a, b) return tonumber(a) < tonumber(b) end)
local s0, sn = tonumber(h[2]) or 0, tonumber(h[3]) or 0
while s0 < sn and redis.call('HEXISTS', head, 'g:' .. s0) == 0 and not due[tostring(s0)] do
  s0 = s0 + 1
end
redis.call('HSET', head, 'dz', #left > 0 and (' ' .. table.concat(left, ' ')) or '', 's0', s0)
return n
