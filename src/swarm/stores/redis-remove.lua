-- Ends sessions: KEYS as in redis-announce.lua. ARGV[1] = 'sid' and ARGV[2] = the session id
-- (WebSocket closed), or ARGV[1] = 'stale' and ARGV[2] = the cut-off (sweep: every session
-- last seen before it). Returns { found, up, down, seeder, everLeecher, seen, dPeers, dSeeders }
-- for 'sid', { removed, 0, 0, 0, 0, 0, dPeers, dSeeders } for 'stale'.
local REC = '>BIIc4HIc16H'
local HEAD = 1 + 4 + 4 + 4 + 2 + 4 + 16 + 2
local dPeers, dSeeders = 0, 0

local function setOf(flags)
  local isRtc = flags % 8 >= 4
  local isSeeder = flags % 2 == 1
  if isRtc then return isSeeder and KEYS[4] or KEYS[5] end
  return isSeeder and KEYS[2] or KEYS[3]
end

local function dropRaw(id, raw)
  local flags, seen = struct.unpack('>BI', raw)
  redis.call('HDEL', KEYS[1], id)
  redis.call('SREM', setOf(flags), id)
  redis.call('ZREM', KEYS[6], id)
  dPeers = dPeers - 1
  if flags % 2 == 1 then dSeeders = dSeeders - 1 end
  local counters = string.sub(raw, HEAD + 1)
  local colon = string.find(counters, ':', 1, true)
  return { 1, string.sub(counters, 1, colon - 1), string.sub(counters, colon + 1), flags % 2, math.floor(flags / 2) % 2, seen }
end

if ARGV[1] == 'sid' then
  local raw = redis.call('HGET', KEYS[1], ARGV[2])
  if not raw then return { 0, '0', '0', 0, 0, 0, 0, 0 } end
  local prev = dropRaw(ARGV[2], raw)
  prev[7], prev[8] = dPeers, dSeeders
  return prev
end

local removed = 0
local stale = redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', '(' .. ARGV[2])
for _, id in ipairs(stale) do
  local raw = redis.call('HGET', KEYS[1], id)
  if raw then dropRaw(id, raw); removed = removed + 1 else redis.call('ZREM', KEYS[6], id) end
end
return { removed, '0', '0', 0, 0, 0, dPeers, dSeeders }
