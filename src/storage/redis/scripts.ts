/**
 * The Lua scripts the Redis stores run: each is one atomic step on the server, so no
 * store ever reads a value and writes it back from here.
 */

/**
 * KEYS the count hashes; ARGV[1] now, ARGV[2] when the counts are forgotten (ms since the
 * epoch), then for each key: enforce (1/0), after, baseMs, maxMs (ports.ts LockRule).
 * Returns {} and changes nothing when an enforced count is locked; otherwise counts a
 * failure on each key, moves its lock later if the count asks for one (the duration is
 * ports.ts lockDuration's) and returns each key's lock end before and after, in order.
 * The expiry is set last: one in the past (a count made "long ago") deletes the key.
 */
export const TRY_ATTEMPT = `
local now = tonumber(ARGV[1])
local locks = {}
for i = 1, #KEYS do
  locks[i] = tonumber(redis.call('HGET', KEYS[i], 'lockedUntil') or '0')
  if ARGV[3 + (i - 1) * 4] == '1' and locks[i] > now then return {} end
end
local changes = {}
for i = 1, #KEYS do
  local rule = 3 + (i - 1) * 4
  local after, baseMs, maxMs = tonumber(ARGV[rule + 1]), tonumber(ARGV[rule + 2]), tonumber(ARGV[rule + 3])
  local failures = redis.call('HINCRBY', KEYS[i], 'failures', 1)
  local lockAfter = locks[i]
  if failures >= after then lockAfter = math.max(lockAfter, now + math.min(baseMs * 2 ^ math.min(failures - after, 30), maxMs)) end
  redis.call('HSET', KEYS[i], 'lockedUntil', string.format('%d', lockAfter))
  redis.call('PEXPIREAT', KEYS[i], ARGV[2])
  changes[#changes + 1] = string.format('%d', locks[i])
  changes[#changes + 1] = string.format('%d', lockAfter)
end
return changes`;

/** KEYS[1] the count hash; ARGV[1] and ARGV[2] the lock's end before and after the attempt. Takes one failure back. */
export const REFUND = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'failures', -1)
if redis.call('HGET', KEYS[1], 'lockedUntil') == ARGV[2] then redis.call('HSET', KEYS[1], 'lockedUntil', ARGV[1]) end
return 1`;

/**
 * Sessions. Each signed-in session is also a member (its sid) of its account's index, a
 * sorted set scored by the session's expiry, written and removed in the same script as
 * the session, so the index never disagrees with the sessions. Each write to an index
 * drops its expired members and keeps the key until its last member expires, so Redis
 * prunes the index with the sessions.
 *
 * The scripts that find a session's account read it from the stored record (JSON,
 * cjson), and destroying derives the index key from it (ARGV[2] the index keys' prefix):
 * like the rest of this back-end, it assumes one Redis, not a cluster.
 */
const KEEP_INDEX = `
local function keepIndex(index, now)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
  local last = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  if last[2] then redis.call('PEXPIREAT', index, last[2]) end
end
`;

/** The account id of a stored session record, or nil (anonymous, or not a record). */
const OWNER_OF = `
local function ownerOf(record)
  local ok, data = pcall(cjson.decode, record)
  if ok and type(data) == 'table' and type(data.user) == 'table' and type(data.user.id) == 'number' then return data.user.id end
  return nil
end
`;

/**
 * KEYS[1] the session, KEYS[2] its tombstone, KEYS[3] its account's index (none for an
 * anonymous session); ARGV[1] the record, ARGV[2] its lifetime in ms, ARGV[3] its expiry
 * (ms since the epoch), ARGV[4] the sid, ARGV[5] now. Writes nothing once destroyed.
 */
export const SET_UNLESS_DESTROYED = `${KEEP_INDEX}
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if KEYS[3] then
  redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
  keepIndex(KEYS[3], ARGV[5])
end
return 1`;

/**
 * KEYS[1] the session, KEYS[2] its account's index (none when anonymous); ARGV[1] its new
 * lifetime in ms, ARGV[2] its new expiry, ARGV[3] the sid, ARGV[4] now. Moves the expiry
 * of a session that still exists, and nothing else (XX: it adds no index member).
 */
export const TOUCH_SESSION = `${KEEP_INDEX}
if redis.call('PEXPIRE', KEYS[1], ARGV[1]) == 0 then return 0 end
if KEYS[2] then
  redis.call('ZADD', KEYS[2], 'XX', ARGV[2], ARGV[3])
  keepIndex(KEYS[2], ARGV[4])
end
return 1`;

/** KEYS[1] the session, KEYS[2] its tombstone; ARGV[1] the tombstone's lifetime in ms, ARGV[2] the index keys' prefix, ARGV[3] the sid. */
export const DESTROY_WITH_TOMBSTONE = `${OWNER_OF}
local owner = ownerOf(redis.call('GET', KEYS[1]) or '')
if owner then redis.call('ZREM', ARGV[2] .. string.format('%d', owner), ARGV[3]) end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
return 1`;

/**
 * KEYS[1] the session, KEYS[2] its tombstone, KEYS[3] the account's index; ARGV[1] the
 * account id, ARGV[2] the tombstone's lifetime in ms, ARGV[3] the sid. Destroys the
 * session only when its record is the account's (1), else changes nothing (0).
 */
export const DESTROY_IF_OWNED = `${OWNER_OF}
if ownerOf(redis.call('GET', KEYS[1]) or '') ~= tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[3])
return 1`;

/**
 * KEYS[1] the account's index; ARGV[1] the account id, ARGV[2] the tombstone's lifetime
 * in ms, ARGV[3] the sid to keep ('' for none), ARGV[4] the sessions' key prefix, ARGV[5]
 * the tombstones'. Destroys every other session of the index that is the account's,
 * each with its tombstone, and empties the index but for the kept sid; returns how many
 * live sessions went.
 */
export const DESTROY_ALL_OF = `${OWNER_OF}
local gone = 0
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if sid ~= ARGV[3] then
    local key = ARGV[4] .. sid
    if ownerOf(redis.call('GET', key) or '') == tonumber(ARGV[1]) then
      redis.call('DEL', key)
      redis.call('SET', ARGV[5] .. sid, '1', 'PX', ARGV[2])
      gone = gone + 1
    end
    redis.call('ZREM', KEYS[1], sid)
  end
end
return gone`;

/**
 * Known devices. KEYS[1] the renewed token's hash {accountId: "expiresAt:epoch"},
 * KEYS[2] the previous token's (KEYS[1] again when there is none), KEYS[3] the
 * signing-in account's revocation epoch; ARGV[1] the account id, ARGV[2] its new expiry,
 * ARGV[3] now, ARGV[4] when the epoch may be forgotten. Moves the previous token's
 * unexpired accounts to the renewed token, adds the account with its current epoch, and
 * keeps the token's key until its last pair expires and the epoch key until ARGV[4] (a
 * pair must not outlive the epoch it was trusted under).
 */
export const TRUST_DEVICE = `
local now = tonumber(ARGV[3])
if KEYS[2] ~= KEYS[1] then
  local fields = redis.call('HGETALL', KEYS[2])
  for i = 1, #fields, 2 do
    if tonumber(string.match(fields[i + 1], '^%d+')) > now then redis.call('HSET', KEYS[1], fields[i], fields[i + 1]) end
  end
  redis.call('DEL', KEYS[2])
end
local epoch = redis.call('GET', KEYS[3])
if epoch then redis.call('PEXPIREAT', KEYS[3], ARGV[4]) else epoch = '0' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. epoch)
local last = 0
for _, value in ipairs(redis.call('HVALS', KEYS[1])) do last = math.max(last, tonumber(string.match(value, '^%d+'))) end
redis.call('PEXPIREAT', KEYS[1], string.format('%d', last))
return 1`;

/** KEYS[1] the token's hash, KEYS[2] the account's epoch; ARGV[1] the account id, ARGV[2] now. 1 when known. */
export const KNOWS_DEVICE = `
local value = redis.call('HGET', KEYS[1], ARGV[1])
if not value then return 0 end
local expiresAt, epoch = string.match(value, '^(%d+):(%d+)$')
if tonumber(expiresAt) <= tonumber(ARGV[2]) then return 0 end
if epoch ~= (redis.call('GET', KEYS[2]) or '0') then return 0 end
return 1`;

/** KEYS[1] an attack-signal bucket; ARGV[1] 1 for a failure, else 0; ARGV[2] its expiry (ms since the epoch). */
export const RECORD_OUTCOME = `
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HINCRBY', KEYS[1], 'failures', tonumber(ARGV[1]))
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1`;

/** KEYS the attack-signal buckets; returns each one's attempts and failures in order (false for none). */
export const READ_COUNTS = `
local counts = {}
for i = 1, #KEYS do
  local values = redis.call('HMGET', KEYS[i], 'attempts', 'failures')
  counts[#counts + 1] = values[1]
  counts[#counts + 1] = values[2]
end
return counts`;
