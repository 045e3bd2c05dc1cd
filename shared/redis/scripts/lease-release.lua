-- Release a VIP lease we hold (compare then delete); records the release on vip:{vip}, with the released
-- epoch, so that no late re-assert (lease-assert.lua) brings that epoch back.
-- KEYS[1] lease:{vip}  KEYS[2] epoch:{vip} (read only)  KEYS[3] vip:{vip}  KEYS[4] history  KEYS[5] history:caps
-- ARGV[1] expected "nodeId:epoch"  ARGV[2] wall ms  ARGV[3] reason  ARGV[4] events channel  ARGV[5] vip name  ARGV[6] nodeId  ARGV[7] epoch
-- Returns {1, value} when released, {0, current value or ""} when it was not ours. (a third element is the current epoch counter)
local cur = redis.call('GET', KEYS[1])
if cur ~= ARGV[1] then return {0, cur or '', tonumber(redis.call('GET', KEYS[2]) or '0')} end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[3], 'owner', '', 'since', ARGV[2], 'reason', ARGV[3], 'previousOwner', ARGV[6], 'releasedEpoch', ARGV[7])
redis.call('PUBLISH', ARGV[4], cjson.encode({type = 'ownership', vip = ARGV[5], owner = cjson.null, epoch = tonumber(ARGV[7]), previousOwner = ARGV[6], reason = ARGV[3], at = tonumber(ARGV[2])}))
-- The history entry (shared/history-event.ts), in the same script as the change: in order and exactly once.
local entry = cjson.encode({v = 1, kind = 'ownership', at = tonumber(ARGV[2]), node = ARGV[6], vip = ARGV[5], owner = cjson.null, previousOwner = ARGV[6], epoch = tonumber(ARGV[7]), reason = ARGV[3]})
local caps = redis.call('HMGET', KEYS[5], 'maxCount', 'maxAgeMs')
if caps[1] then redis.call('XADD', KEYS[4], 'MAXLEN', '=', caps[1], '*', 'e', entry) else redis.call('XADD', KEYS[4], '*', 'e', entry) end
if caps[2] then local t = redis.call('TIME'); redis.call('XTRIM', KEYS[4], 'MINID', '=', string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(caps[2]))) end
return {1, cur, tonumber(ARGV[7])}
