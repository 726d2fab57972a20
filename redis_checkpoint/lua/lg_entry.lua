-- entry(), shared by lg_get.lua, lg_list.lua, lg_fetch.lua and lg_chain.lua (scripts.py puts
-- this text in front of theirs). Appends one checkpoint (member "<ns>\0<id>" of namespace
-- `ns`) read from segment `seg` to `out`, as entries.py reads it: id, record, n, n pairs of
-- (field, blob), k, k writes. A blob already in this reply (for an earlier checkpoint, noted
-- in `sent`) is sent as the integer 0. `bare`: the record only (n = k = 0). A checkpoint
-- whose record is gone is left out. `writes` is the writes zset.
local function entry(out, sent, seg, writes, ns, member, bare)
  local got = redis.call('HMGET', seg, 'c:' .. member, 'v:' .. member)
  if not got[1] then
    return
  end
  out[#out + 1] = string.sub(member, #ns + 2)
  out[#out + 1] = got[1]
  if bare then
    out[#out + 1] = 0
    out[#out + 1] = 0
    return
  end
  local count = #out + 1
  out[count] = 0
  local fields = {}
  for field in string.gmatch(got[2] or '', '[^\n]+') do
    if sent[field] then  -- unchanged since a checkpoint already in this reply
      out[#out + 1] = field
      out[#out + 1] = 0
      out[count] = out[count] + 1
    else
      fields[#fields + 1] = field
    end
  end
  for i = 1, #fields, 500 do
    local chunk = {unpack(fields, i, math.min(i + 499, #fields))}
    local blobs = redis.call('HMGET', seg, unpack(chunk))
    for j = 1, #chunk do
      if blobs[j] then
        out[#out + 1] = chunk[j]
        out[#out + 1] = blobs[j]
        out[count] = out[count] + 1
        sent[chunk[j]] = true
      end
    end
  end
  local ws = redis.call('ZRANGEBYLEX', writes, '[' .. member .. '\0', '[' .. member .. '\0\255')
  local wcount = #out + 1
  out[wcount] = 0
  for i = 1, #ws, 500 do
    local names = {}
    for j = i, math.min(i + 499, #ws) do
      names[#names + 1] = 'w:' .. ws[j]
    end
    for _, value in ipairs(redis.call('HMGET', seg, unpack(names))) do
      if value then
        out[#out + 1] = value
        out[wcount] = out[wcount] + 1
      end
    end
  end
end

