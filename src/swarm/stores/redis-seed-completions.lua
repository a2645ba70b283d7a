-- Seeds a swarm's live completion count from the database (see redis-announce.lua), once.
-- KEYS: 1 completers (set), 2 times completed. ARGV: 1 the database's count, 2 the user ids the
-- database knows completed, packed as 4-byte big-endian integers, 3 seconds the keys are kept.
-- Read in one snapshot by the caller; completers added by announces meanwhile that the database
-- does not hold yet are added to its count. Returns the count.
local have = redis.call('GET', KEYS[2])
if have then return tonumber(have) end
local before = redis.call('SCARD', KEYS[1])
local packed = ARGV[2]
local total = #packed / 4
local known = 0
local batch = {}
local function add()
  known = known + (#batch - redis.call('SADD', KEYS[1], unpack(batch)))
  batch = {}
end
for i = 0, total - 1 do
  batch[#batch + 1] = struct.unpack('>I4', packed, i * 4 + 1)
  if #batch == 1000 then add() end
end
if #batch > 0 then add() end
local n = tonumber(ARGV[1]) + before - known
redis.call('SET', KEYS[2], n, 'EX', tonumber(ARGV[3]))
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3])) end
return n
