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

/** KEYS[1] the session, KEYS[2] its tombstone; ARGV[1] the record, ARGV[2] its lifetime in ms. */
export const SET_UNLESS_DESTROYED = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

/** KEYS[1] the session, KEYS[2] its tombstone; ARGV[1] the tombstone's lifetime in ms. */
export const DESTROY_WITH_TOMBSTONE = `
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
return 1`;

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
