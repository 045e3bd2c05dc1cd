-- Release a VIP lease we hold (compare then delete); records the release on vip:{vip}, with the released
-- epoch, so that no late re-assert (lease-assert.lua) brings that epoch back.
-- KEYS[1] lease:{vip}  KEYS[2] epoch:{vip} (read only)  KEYS[3] vip:{vip}
-- ARGV[1] expected "nodeId:epoch"  ARGV[2] wall ms  ARGV[3] reason  ARGV[4] events channel  ARGV[5] vip name  ARGV[6] nodeId  ARGV[7] epoch
-- Returns {1, value} when released, {0, current value or ""} when it was not ours. (a third element is the current epoch counter)
local cur = redis.call('GET', KEYS[1])
if cur ~= ARGV[1] then return {0, cur or '', tonumber(redis.call('GET', KEYS[2]) or '0')} end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[3], 'owner', '', 'since', ARGV[2], 'reason', ARGV[3], 'previousOwner', ARGV[6], 'releasedEpoch', ARGV[7])
redis.call('PUBLISH', ARGV[4], cjson.encode({type = 'ownership', vip = ARGV[5], owner = cjson.null, epoch = tonumber(ARGV[7]), previousOwner = ARGV[6], reason = ARGV[3], at = tonumber(ARGV[2])}))
return {1, cur, tonumber(ARGV[7])}
