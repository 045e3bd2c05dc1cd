-- Acquire a free VIP lease (set-if-absent) and hand out the next fencing epoch.
-- KEYS[1] lease:{vip}  KEYS[2] epoch:{vip}  KEYS[3] vip:{vip}  KEYS[4] history  KEYS[5] history:caps
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
-- The history entry (shared/history-event.ts), in the same script as the change: in order and exactly once.
local entry = cjson.encode({v = 1, kind = 'ownership', at = tonumber(ARGV[3]), node = ARGV[1], vip = ARGV[6], owner = ARGV[1], previousOwner = previous, epoch = epoch, reason = ARGV[4]})
local caps = redis.call('HMGET', KEYS[5], 'maxCount', 'maxAgeMs')
if caps[1] then redis.call('XADD', KEYS[4], 'MAXLEN', '=', caps[1], '*', 'e', entry) else redis.call('XADD', KEYS[4], '*', 'e', entry) end
if caps[2] then local t = redis.call('TIME'); redis.call('XTRIM', KEYS[4], 'MINID', '=', string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(caps[2]))) end
return {1, value, epoch}
