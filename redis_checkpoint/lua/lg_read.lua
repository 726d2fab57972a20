#!lua flags=no-writes
-- Read LangGraph checkpoints of one thread (read-only: runs under OOM and on replicas).
-- KEYS[1] data hash: "c:<m>" record, "v:<m>" blob fields joined by "\n",
--         "p:<m>" delta link and "d:<ns>" its namespace's mark (lg_write.lua's chains()),
--         "b:<ns>\0<channel>\0<version>" blob, "w:<write member>" write,
--         where <m> is the index member "<ns>\0<checkpoint id>"
-- KEYS[2] index zset (members <ns>\0<id>, score 0), KEYS[3] writes zset (score 0)
-- ARGV[1] "get":  ARGV[2] ns, ARGV[3] checkpoint id or "" for the newest in ns
--         "list": ARGV[2] ns, ARGV[3] "" or an id to start just below, ARGV[4] page size,
--                 ARGV[5] "1" for records only (no blobs, no writes: n = k = 0)
--         "chain": as "get", then the checkpoint's ancestors through its delta links
--                  (lg_write.lua's chains()), as far as its own link's depth and at
--                  most ARGV[4] of them; a checkpoint put without a link ends the walk
--         "namespaces": ARGV[2] "" to start with the first namespace, or ">" and the
--                 namespace to start after; ARGV[3] most namespaces to return (a
--                 subgraph's namespace names its task, so a thread may have thousands)
-- Returns, for "get", "chain" and "list", a flat array: the number of index members read
-- and the id of the last one ("" if none), so the client knows whether more
-- remain even when a member has no record; then, per checkpoint:
--   id, record, n, field1, blob1, ... fieldn, blobn, k, write1, ..., writek
-- (missing blobs are left out; a blob already in this reply, for an earlier
-- checkpoint, is sent as the integer 0); for "namespaces" the list of namespaces.
local data, index, writes = KEYS[1], KEYS[2], KEYS[3]
local mode = ARGV[1]

if mode == 'namespaces' then
  local out, from, most = {}, ARGV[2] == '' and '-' or '(' .. string.sub(ARGV[2], 2) .. '\0\255', tonumber(ARGV[3])
  while #out < most do
    local first = redis.call('ZRANGEBYLEX', index, from, '+', 'LIMIT', 0, 1)[1]
    if not first then
      break
    end
    local ns = string.sub(first, 1, string.find(first, '\0', 1, true) - 1)
    out[#out + 1] = ns
    from = '(' .. ns .. '\0\255'
  end
  return out
end

local ns = ARGV[2]
local ids
if mode == 'get' or mode == 'chain' then
  if ARGV[3] == '' then  -- the newest id that has its record: list skips the others too
    ids = {}
    local top = '[' .. ns .. '\0\255'
    repeat
      local batch = redis.call('ZREVRANGEBYLEX', index, top, '[' .. ns .. '\0', 'LIMIT', 0, 10)
      for _, member in ipairs(batch) do
        if redis.call('HEXISTS', data, 'c:' .. member) == 1 then
          ids = {member}
          break
        end
      end
      top = batch[#batch] and '(' .. batch[#batch]
    until #ids > 0 or #batch < 10
  else
    ids = {ns .. '\0' .. ARGV[3]}
  end
  local link = mode == 'chain' and ids[1] and redis.call('HGET', data, 'p:' .. ids[1]) or nil
  if link then
    for _ = 1, math.min(tonumber(string.match(link, '^(%d+)\n')), tonumber(ARGV[4])) do
      link = link or redis.call('HGET', data, 'p:' .. ids[#ids])
      if not link then
        break
      end
      ids[#ids + 1] = ns .. '\0' .. string.match(link, '\n(.*)$')
      link = nil
    end
  end
else
  local top = '[' .. ns .. '\0\255'
  if ARGV[3] ~= '' then
    top = '(' .. ns .. '\0' .. ARGV[3]
  end
  ids = redis.call('ZREVRANGEBYLEX', index, top, '[' .. ns .. '\0', 'LIMIT', 0, tonumber(ARGV[4]))
end

local bare = ARGV[5] == '1'
local out, sent = {#ids, ids[#ids] and string.sub(ids[#ids], #ns + 2) or ''}, {}
for _, member in ipairs(ids) do
  local got = redis.call('HMGET', data, 'c:' .. member, 'v:' .. member)
  if got[1] then
    out[#out + 1] = string.sub(member, #ns + 2)
    out[#out + 1] = got[1]
    if bare then
      out[#out + 1] = 0
      out[#out + 1] = 0
    else
      local slot = #out + 1
      out[slot] = 0
      local fields = {}
      for field in string.gmatch(got[2] or '', '[^\n]+') do
        if sent[field] then  -- unchanged since a checkpoint already in this reply
          out[#out + 1] = field
          out[#out + 1] = 0
          out[slot] = out[slot] + 1
        else
          fields[#fields + 1] = field
        end
      end
      local blobs = {}
      if #fields > 0 then
        blobs = redis.call('HMGET', data, unpack(fields))
      end
      for i = 1, #fields do
        if blobs[i] then
          out[#out + 1] = fields[i]
          out[#out + 1] = blobs[i]
          out[slot] = out[slot] + 1
          sent[fields[i]] = true
        end
      end
      local members = redis.call('ZRANGEBYLEX', writes, '[' .. member .. '\0', '[' .. member .. '\0\255')
      local wslot = #out + 1
      out[wslot] = 0
      for _, w in ipairs(members) do
        local value = redis.call('HGET', data, 'w:' .. w)
        if value then
          out[#out + 1] = value
          out[wslot] = out[wslot] + 1
        end
      end
    end
  end
end
return out
