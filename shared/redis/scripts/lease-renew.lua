-- Renew a VIP lease only while it is still exactly ours (compare-and-set on "nodeId:epoch").
-- KEYS[1] lease:{vip}
-- ARGV[1] expected "nodeId:epoch"  ARGV[2] ttlMs
-- Returns {1, value} when renewed, {0, current value or ""} when lost.
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, cur}
end
return {0, cur or ''}
