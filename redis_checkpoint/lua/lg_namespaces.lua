#!lua flags=no-writes
-- A page of a LangGraph thread's namespaces, in order (read-only). A subgraph's namespace
-- names its task, so a thread may have thousands.
-- KEYS[1] index zset (members "<ns>\0<id>")
-- ARGV[1] "" to start with the first namespace, or ">" and the namespace to start after,
-- ARGV[2] most namespaces to return
-- Returns the namespaces.
local out = {}
local from = ARGV[1] == '' and '-' or '(' .. string.sub(ARGV[1], 2) .. '\0\255'
local most = tonumber(ARGV[2])
while #out < most do
  local first = redis.call('ZRANGEBYLEX', KEYS[1], from, '+', 'LIMIT', 0, 1)[1]
  if not first then
    break
  end
  local ns = string.sub(first, 1, string.find(first, '\0', 1, true) - 1)
  out[#out + 1] = ns
  from = '(' .. ns .. '\0\255'
end
return out
