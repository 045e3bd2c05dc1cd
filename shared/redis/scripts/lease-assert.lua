-- Renew a VIP lease, or re-assert it at the same epoch when it is gone but nobody took it since
-- (the owner after a stall or a Redis outage, or a peer that granted it a peer lease, on its behalf).
-- KEYS[1] lease:{vip}  KEYS[2] epoch:{vip}  KEYS[3] vip:{vip}
-- ARGV[1] "nodeId:epoch"  ARGV[2] ttlMs  ARGV[3] epoch
-- Returns {1, value, epoch} renewed, {2, value, epoch} re-asserted (the key had expired or Redis lost it),
-- {0, current value or "", current epoch} when someone else holds it or acquired since, or it was released.
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, cur, tonumber(ARGV[3])}
end
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
if cur then return {0, cur, current} end
local mine = tonumber(ARGV[3])
if current > mine then return {0, '', current} end
if redis.call('HGET', KEYS[3], 'releasedEpoch') == ARGV[3] then return {0, '', current} end
-- Epochs never go down: a Redis that came back empty learns the epoch from its owner.
if current < mine then redis.call('SET', KEYS[2], ARGV[3]) end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {2, ARGV[1], mine}
