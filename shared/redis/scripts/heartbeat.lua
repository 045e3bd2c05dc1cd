-- Writes a node's heartbeat, stamped with Redis's own clock, so that every reader measures its age on one
-- clock (Redis TIME) and never compares two hosts' wall clocks; drops nodes not seen for the keep time.
-- KEYS[1] node:{id}  KEYS[2] nodes (zset)
-- ARGV[1] node id  ARGV[2] heartbeat JSON  ARGV[3] keep ms (forgetAfterMs)
-- Returns Redis time in ms.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[3]))
return now
