/**
 * The Lua scripts the Redis stores run: each is one atomic step on the server, so no
 * store ever reads a value and writes it back from here.
 */

/** KEYS[1] the count hash; ARGV[1] when the count is forgotten (ms since the epoch). Returns the new count. */
export const COUNT_FAILURE = `
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return failures`;

/** KEYS[1] the count hash; ARGV[1] the lock's end. Moves the lock later, never earlier. */
export const EXTEND_LOCK = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local current = tonumber(redis.call('HGET', KEYS[1], 'lockedUntil') or '0')
if tonumber(ARGV[1]) > current then redis.call('HSET', KEYS[1], 'lockedUntil', ARGV[1]) end
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
