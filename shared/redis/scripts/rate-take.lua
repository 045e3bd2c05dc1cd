-- Takes one token from a cluster-wide token bucket (routes[].rateLimit.cluster).
-- KEYS[1] bucket hash {tokens, ms}; ARGV[1] rate per second, ARGV[2] burst.
-- Time is Redis's own (TIME), so nodes with skewed clocks share one bucket fairly.
-- Returns 0 when a token was taken, else the ms until one is there.
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ms')
local tokens = tonumber(b[1])
local last = tonumber(b[2])
if tokens == nil or last == nil then
  tokens = burst
  last = now
end
if now > last then
  tokens = math.min(burst, tokens + (now - last) * rate / 1000)
  last = now
end
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ms', tostring(last))
-- A bucket left alone refills in burst / rate seconds; after that it is the same as no key.
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return wait
