-- One announce, atomically, in one round trip (see src/swarm/stores/redis.ts).
-- KEYS (one swarm, one hash tag): 1 records, 2 http seeders, 3 http leechers,
--   4 webrtc seeders, 5 webrtc leechers, 6 last-seen zset, 7 pending credit (hash),
--   8 leecher marks (hash: a1, a2 = last announce with >= 1, >= 2 leechers; expires),
--   9 completers (set of user ids), 10 times completed (absent: not seeded yet, see
--   redis-seed-completions.lua); both expire after ARGV 20 seconds without a completion
-- ARGV: 1 sid, 2 now, 3 event (0 none, 1 started, 2 completed, 3 stopped), 4 ip (4/16 bytes,
--   empty for WebRTC), 5 port, 6 uploaded, 7 downloaded, 8 left, 9 numwant, 10 want ids (0/1),
--   11 ttl seconds, 12 user id (0: no credit), 13 torrent id, 14 percent of download counted
--   (in force now), 15 max gap seconds, 16 bonus per seed hour, 17 max upload bytes per second
--   (0: no cap), 18 upload bytes per second that revoke leeching (0: never), 19 percent of
--   upload credited (in force now), 20 seconds the completion keys are kept, 21 the session's
--   user id
-- Credit follows src/accounting/deltas.ts exactly (the tests run both); it is added to the
-- swarm's pending-credit hash in the same script as the baseline moves, so no announce's
-- credit can be lost between the two, whatever happens to the process.
-- A record: struct '>BIIc4HIc16H' (flags, seen, seen4, ip4, port4, seen6, ip6, port6) followed
-- by "uploaded:downloaded" as the client sent them (decimal text: no float rounding here).
-- flags: 1 seeder, 2 ever leecher, 4 webrtc.
local REC = '>BIIc4HIc16H'
local HEAD = 1 + 4 + 4 + 4 + 2 + 4 + 16 + 2
local Z4 = string.rep('\0', 4)
local Z16 = string.rep('\0', 16)

local sid = ARGV[1]
local now = tonumber(ARGV[2])
local event = tonumber(ARGV[3])
local ip = ARGV[4]
local port = tonumber(ARGV[5])
local up = ARGV[6]
local down = ARGV[7]
local left = tonumber(ARGV[8])
local numwant = tonumber(ARGV[9])
local wantIds = ARGV[10] == '1'
local ttl = tonumber(ARGV[11])
local rtc = ip == ''
local creditUser = tonumber(ARGV[12] or '0')

local dPeers, dSeeders = 0, 0

local function setsOf(flags)
  local isRtc = flags % 8 >= 4
  local isSeeder = flags % 2 == 1
  if isRtc then return isSeeder and KEYS[4] or KEYS[5] end
  return isSeeder and KEYS[2] or KEYS[3]
end

local function decode(raw)
  local flags, seen, seen4, ip4, port4, seen6, ip6, port6 = struct.unpack(REC, raw)
  local counters = string.sub(raw, HEAD + 1)
  local colon = string.find(counters, ':', 1, true)
  return { flags = flags, seen = seen, seen4 = seen4, ip4 = ip4, port4 = port4, seen6 = seen6, ip6 = ip6, port6 = port6,
    up = string.sub(counters, 1, colon - 1), down = string.sub(counters, colon + 1) }
end

local function encode(r)
  return struct.pack(REC, r.flags, r.seen, r.seen4, r.ip4, r.port4, r.seen6, r.ip6, r.port6) .. r.up .. ':' .. r.down
end

local function drop(id, r)
  redis.call('HDEL', KEYS[1], id)
  redis.call('SREM', setsOf(r.flags), id)
  redis.call('ZREM', KEYS[6], id)
  dPeers = dPeers - 1
  if r.flags % 2 == 1 then dSeeders = dSeeders - 1 end
end

-- Server-side expiry, a few sessions per announce: silent peers leave even if nobody sweeps.
local stale = redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', '(' .. (now - ttl), 'LIMIT', 0, 16)
for _, id in ipairs(stale) do
  local raw = redis.call('HGET', KEYS[1], id)
  if raw then drop(id, decode(raw)) else redis.call('ZREM', KEYS[6], id) end
end

local raw = redis.call('HGET', KEYS[1], sid)
local prev = nil
local r
if raw then
  r = decode(raw)
  prev = { 1, r.up, r.down, r.flags % 2, math.floor(r.flags / 2) % 2, r.seen }
end

-- Leecher marks, as memory.ts keeps them: was another leecher in the swarm at an announce since
-- this session's previous one (or is one now)? Without one, no upload is credited.
local marks = redis.call('HMGET', KEYS[8], 'a1', 'a2')
local a1, a2 = tonumber(marks[1] or '0') or 0, tonumber(marks[2] or '0') or 0
local function leechersNow()
  return redis.call('SCARD', KEYS[3]) + redis.call('SCARD', KEYS[5])
end
local function markLeechers(n)
  local changed = false
  if n >= 1 and a1 ~= now then a1 = now; changed = true end
  if n >= 2 and a2 ~= now then a2 = now; changed = true end
  if changed then
    redis.call('HSET', KEYS[8], 'a1', a1, 'a2', a2)
    redis.call('EXPIRE', KEYS[8], ttl * 2)
  end
end
local others = 0
if prev then
  local n = leechersNow()
  if prev[4] == 1 then others = (n > 0 or a1 >= prev[6]) and 1 or 0
  else others = (n > 1 or a2 >= prev[6]) and 1 or 0 end
  markLeechers(n)
end
local suspicion = 0

if creditUser > 0 and prev then
  local pu, pd = tonumber(prev[2]), tonumber(prev[3])
  local cu, cd = tonumber(up), tonumber(down)
  local du = cu >= pu and cu - pu or 0
  local dd = cd >= pd and cd - pd or 0
  local elapsed = now - prev[6]
  if elapsed < 1 then elapsed = 1 end
  local revokeRate = tonumber(ARGV[18] or '0') or 0
  if revokeRate > 0 and du > revokeRate * elapsed then suspicion = suspicion + 4 end
  local maxRate = tonumber(ARGV[17] or '0') or 0
  if maxRate > 0 and du > maxRate * elapsed then
    du = maxRate * elapsed
    suspicion = suspicion + 1
  end
  if du > 0 and others == 0 then
    if du >= 10485760 then suspicion = suspicion + 2 end -- NO_LEECHERS_REPORT_BYTES
    du = 0
  end
  -- Raw bytes (before the promotion) beside the credited ones: site rules judge real transfer.
  local rawUp, rawDown = du, dd
  local downPct, upPct = tonumber(ARGV[14]), tonumber(ARGV[19])
  if downPct ~= 100 then dd = math.floor(dd * downPct / 100) end
  if upPct ~= 100 then du = math.floor(du * upPct / 100) end
  local gap = now - prev[6]
  if gap < 0 then gap = 0 end
  local maxGap = tonumber(ARGV[15])
  if gap > maxGap then gap = maxGap end
  local u = ARGV[12] .. ':'
  local ck = KEYS[7]
  redis.call('HSET', ck, 'tid', ARGV[13])
  if du > 0 then redis.call('HINCRBY', ck, u .. 'u', string.format('%.0f', du)) end
  if dd > 0 then redis.call('HINCRBY', ck, u .. 'd', string.format('%.0f', dd)) end
  if rawUp > 0 then redis.call('HINCRBY', ck, u .. 'U', string.format('%.0f', rawUp)) end
  if rawDown > 0 then redis.call('HINCRBY', ck, u .. 'D', string.format('%.0f', rawDown)) end
  if gap > 0 then
    if prev[4] == 1 then
      redis.call('HINCRBY', ck, u .. 's', gap)
      local rate = tonumber(ARGV[16])
      if rate > 0 then redis.call('HINCRBYFLOAT', ck, u .. 'b', string.format('%.17g', gap * rate / 3600)) end
    else
      redis.call('HINCRBY', ck, u .. 'l', gap)
    end
  end
  if prev[5] == 1 and (event == 2 or (prev[4] == 0 and left == 0)) then redis.call('HSETNX', ck, u .. 'c', now) end
  redis.call('HSET', ck, u .. 't', now)
end

-- Times completed, live: a completion (deltas.ts isCompletion) adds its user to the completers
-- and, when new there, one to the count (once seeded). The count rides along in every answer.
if prev and prev[5] == 1 and (event == 2 or (prev[4] == 0 and left == 0)) then
  local keep = tonumber(ARGV[20])
  local isNew = redis.call('SADD', KEYS[9], ARGV[21])
  redis.call('EXPIRE', KEYS[9], keep)
  if isNew == 1 and redis.call('EXISTS', KEYS[10]) == 1 then redis.call('INCR', KEYS[10]) end
  redis.call('EXPIRE', KEYS[10], keep)
end
local completed = tonumber(redis.call('GET', KEYS[10]) or '-1')

local function counts()
  return redis.call('SCARD', KEYS[2]) + redis.call('SCARD', KEYS[4]), redis.call('SCARD', KEYS[3]) + redis.call('SCARD', KEYS[5])
end

local function finish(p4, p6, i4, i6, rtcIds)
  local seeders, leechers = counts()
  local out = { prev and 1 or 0, prev and prev[2] or '0', prev and prev[3] or '0', prev and prev[4] or 0, prev and prev[5] or 0, prev and prev[6] or 0,
    seeders, leechers, p4, p6, i4, i6, rtcIds, dPeers, dSeeders, others, suspicion, completed }
  -- No EXPIRE here: Redis drops a hash, set or sorted set with its last member, so a swarm's
  -- keys vanish when its last session is dropped (by an announce here or by sweep).
  return out
end

if event == 3 then
  if not r then return finish('', '', '', '', '') end
  if rtc then r.seen4, r.seen6 = 0, 0
  elseif #ip == 16 then r.seen6 = 0
  else r.seen4 = 0 end
  if r.seen4 == 0 and r.seen6 == 0 then
    drop(sid, r)
  else
    r.up, r.down, r.seen = up, down, now
    redis.call('HSET', KEYS[1], sid, encode(r))
    redis.call('ZADD', KEYS[6], now, sid)
  end
  return finish('', '', '', '', '')
end

local seeder = left == 0
if not r then
  r = { flags = rtc and 4 or 0, seen = now, seen4 = 0, ip4 = Z4, port4 = 0, seen6 = 0, ip6 = Z16, port6 = 0, up = up, down = down }
  dPeers = dPeers + 1
  if seeder then dSeeders = dSeeders + 1 end
else
  local wasSeeder = r.flags % 2 == 1
  if wasSeeder ~= seeder then
    redis.call('SREM', setsOf(r.flags), sid)
    dSeeders = dSeeders + (seeder and 1 or -1)
  end
end
local base = r.flags - (r.flags % 2)
if not seeder and math.floor(base / 2) % 2 == 0 then base = base + 2 end
r.flags = base + (seeder and 1 or 0)
r.up, r.down, r.seen = up, down, now
if rtc then
  r.seen4 = now
elseif #ip == 16 then
  r.ip6, r.port6, r.seen6 = ip, port, now
else
  r.ip4, r.port4, r.seen4 = ip, port, now
end
redis.call('HSET', KEYS[1], sid, encode(r))
redis.call('SADD', setsOf(r.flags), sid)
redis.call('ZADD', KEYS[6], now, sid)
markLeechers(leechersNow())

-- Peer selection: random members of the other sets of the same kind (HTTP or WebRTC).
local sKey, lKey = KEYS[2], KEYS[3]
if rtc then sKey, lKey = KEYS[4], KEYS[5] end
local picked = {}
if numwant > 0 then
  local fromL = redis.call('SRANDMEMBER', lKey, numwant + 1)
  local fromS = {}
  if not seeder then fromS = redis.call('SRANDMEMBER', sKey, numwant + 1) end
  -- interleave seeders and leechers so a partial take is a fair mix
  local i, j = 1, 1
  while #picked < numwant and (i <= #fromS or j <= #fromL) do
    if i <= #fromS then
      if fromS[i] ~= sid then picked[#picked + 1] = fromS[i] end
      i = i + 1
    end
    if #picked < numwant and j <= #fromL then
      if fromL[j] ~= sid then picked[#picked + 1] = fromL[j] end
      j = j + 1
    end
  end
end
local p4, p6, i4, i6, rtcIds = {}, {}, {}, {}, {}
if #picked > 0 then
  local recs = redis.call('HMGET', KEYS[1], unpack(picked))
  for k, rawPeer in ipairs(recs) do
    if rawPeer then
      local peer = decode(rawPeer)
      local peerId = string.sub(picked[k], 1, 20)
      if rtc then
        rtcIds[#rtcIds + 1] = picked[k] -- the whole session id: its key names the process holding the peer
      else
        if peer.seen4 > 0 and peer.seen4 >= now - ttl then
          p4[#p4 + 1] = peer.ip4 .. struct.pack('>H', peer.port4)
          if wantIds then i4[#i4 + 1] = peerId end
        end
        if peer.seen6 > 0 and peer.seen6 >= now - ttl then
          p6[#p6 + 1] = peer.ip6 .. struct.pack('>H', peer.port6)
          if wantIds then i6[#i6 + 1] = peerId end
        end
      end
    end
  end
end
return finish(table.concat(p4), table.concat(p6), table.concat(i4), table.concat(i6), table.concat(rtcIds))
