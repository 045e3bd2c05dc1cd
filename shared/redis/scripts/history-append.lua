-- Appends one event to the cluster event history, trimmed to the caps the nodes published, at most once:
-- a retry of a write Redis already has is skipped (each writing process numbers its events), and an event
-- about the state of a subject (a backend's verdict, a node not seen) is written only when that state changed,
-- so that it is recorded once however many nodes notice it.
-- KEYS[1] history (stream)  KEYS[2] history:caps (hash: maxCount, maxAgeMs)  KEYS[3] history:last (hash)
-- ARGV[1] event JSON  ARGV[2] writer node id ('' = no sequence)  ARGV[3] "process:seq"
-- ARGV[4] subject ('' = none)  ARGV[5] its new state  ARGV[6] mode  ARGV[7] states, comma-separated. Modes:
--   unless: not written when the recorded state is the new one or one of the states;
--   only: written only when the recorded state is one of the states; always: written, state remembered.
-- Returns 1 written, 0 duplicate (already written by this process), 2 unchanged (the subject's state is recorded).
if ARGV[2] ~= '' then
  local field = 'seq:' .. ARGV[2]
  local last = redis.call('HGET', KEYS[3], field)
  local proc, seq = string.match(ARGV[3], '^(.*):(%d+)$')
  if last then
    local lproc, lseq = string.match(last, '^(.*):(%d+)$')
    if lproc == proc and tonumber(lseq) >= tonumber(seq) then return 0 end
  end
  redis.call('HSET', KEYS[3], field, ARGV[3])
end
if ARGV[4] ~= '' then
  if ARGV[6] ~= 'always' then
    local cur = redis.call('HGET', KEYS[3], ARGV[4]) or ''
    if cur == ARGV[5] then return 2 end
    local listed = ARGV[7] ~= '' and string.find(',' .. ARGV[7] .. ',', ',' .. cur .. ',', 1, true) ~= nil
    if (ARGV[6] == 'unless' and listed) or (ARGV[6] == 'only' and not listed) then return 2 end
  end
  redis.call('HSET', KEYS[3], ARGV[4], ARGV[5])
end
local caps = redis.call('HMGET', KEYS[2], 'maxCount', 'maxAgeMs')
if caps[1] then redis.call('XADD', KEYS[1], 'MAXLEN', '=', caps[1], '*', 'e', ARGV[1]) else redis.call('XADD', KEYS[1], '*', 'e', ARGV[1]) end
if caps[2] then
  local t = redis.call('TIME')
  redis.call('XTRIM', KEYS[1], 'MINID', '=', string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(caps[2])))
end
return 1
