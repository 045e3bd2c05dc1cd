-- Instant takeover of a confirmed-dead owner: replace the lease only if it is still
-- exactly the dead owner's "nodeId:epoch" (or already gone), with the next epoch.
-- KEYS[1] lease:{vip}  KEYS[2] epoch:{vip}  KEYS[3] vip:{vip}
-- ARGV[1] dead "nodeId:epoch"  ARGV[2] new nodeId  ARGV[3] ttlMs  ARGV[4] wall ms  ARGV[5] reason
-- ARGV[6] events channel  ARGV[7] vip name  ARGV[8] dead nodeId  ARGV[9] highest epoch the caller has seen
-- Returns {1, new value} on success, {0, current value} when someone else holds it. (a third element is the current epoch counter)
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return {0, cur, tonumber(redis.call('GET', KEYS[2]) or '0')} end
if tonumber(redis.call('GET', KEYS[2]) or '0') < tonumber(ARGV[9]) then redis.call('SET', KEYS[2], ARGV[9]) end
local epoch = redis.call('INCR', KEYS[2])
local value = ARGV[2] .. ':' .. epoch
redis.call('SET', KEYS[1], value, 'PX', ARGV[3])
redis.call('HSET', KEYS[3], 'owner', ARGV[2], 'epoch', epoch, 'since', ARGV[4], 'reason', ARGV[5], 'previousOwner', ARGV[8])
redis.call('PUBLISH', ARGV[6], cjson.encode({type = 'ownership', vip = ARGV[7], owner = ARGV[2], epoch = epoch, previousOwner = ARGV[8], reason = ARGV[5], at = tonumber(ARGV[4])}))
return {1, value, epoch}
