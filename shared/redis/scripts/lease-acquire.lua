-- Acquire a free VIP lease (set-if-absent) and hand out the next fencing epoch.
-- KEYS[1] lease:{vip}  KEYS[2] epoch:{vip}  KEYS[3] vip:{vip}
-- ARGV[1] nodeId  ARGV[2] ttlMs  ARGV[3] wall ms  ARGV[4] reason  ARGV[5] events channel  ARGV[6] vip name
-- ARGV[7] highest epoch the caller has seen (a Redis that lost its data must not hand out an old epoch again)
-- Returns {1, "nodeId:epoch"} when acquired, {0, current value} when held. (a third element is the current epoch counter)
local cur = redis.call('GET', KEYS[1])
if cur then return {0, cur, tonumber(redis.call('GET', KEYS[2]) or '0')} end
if tonumber(redis.call('GET', KEYS[2]) or '0') < tonumber(ARGV[7]) then redis.call('SET', KEYS[2], ARGV[7]) end
local epoch = redis.call('INCR', KEYS[2])
local value = ARGV[1] .. ':' .. epoch
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
local prev = redis.call('HGET', KEYS[3], 'owner') or ''
redis.call('HSET', KEYS[3], 'owner', ARGV[1], 'epoch', epoch, 'since', ARGV[3], 'reason', ARGV[4], 'previousOwner', prev)
local previous = cjson.null
if prev ~= '' then previous = prev end
redis.call('PUBLISH', ARGV[5], cjson.encode({type = 'ownership', vip = ARGV[6], owner = ARGV[1], epoch = epoch, previousOwner = previous, reason = ARGV[4], at = tonumber(ARGV[3])}))
return {1, value, epoch}
