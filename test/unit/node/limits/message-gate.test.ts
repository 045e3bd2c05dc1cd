import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageGate, PASS, CLOSE_POLICY, CLOSE_TOO_BIG, maskedCloseFrame } from '../../../../node/limits/message-gate';

/** A masked client frame with `n` payload bytes. */
function frame(opcode: number, n: number, fin = true): Buffer {
  const hdr = n < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | n]) : n < 65536 ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, n >> 8, n & 255]) : Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; })()]);
  return Buffer.concat([hdr, Buffer.from([1, 2, 3, 4]), Buffer.alloc(n, 7)]);
}

test('frames within the limits pass whole, split anywhere', () => {
  const g = new MessageGate(1000, 0, 1, 0);
  const stream = Buffer.concat([frame(1, 10), frame(2, 300), frame(9, 0), frame(2, 70000 > 1000 ? 900 : 0)]);
  for (let i = 0; i < stream.length; i += 7) assert.equal(g.consume(stream.subarray(i, i + 7), 0, false), PASS);
  assert.ok(g.atBoundary);
});

test('an oversized frame is cut before its first byte; fragments add up', () => {
  const g = new MessageGate(100, 0, 1, 0);
  const a = frame(1, 10);
  const big = frame(2, 101);
  assert.equal(g.consume(Buffer.concat([a, big]), 0, false), a.length);
  assert.equal(g.violation, CLOSE_TOO_BIG);
  assert.ok(g.cleanCut);
  const f = new MessageGate(100, 0, 1, 0);
  const first = frame(1, 60, false);
  assert.equal(f.consume(Buffer.concat([first, frame(0, 41)]), 0, false), first.length);
  assert.equal(f.violation, CLOSE_TOO_BIG);
  const h = new MessageGate(100, 0, 1, 0);
  const big2 = frame(2, 200);
  assert.equal(h.consume(big2.subarray(0, 1), 0, false), PASS);
  assert.equal(h.consume(big2.subarray(1), 0, false), 0);
  assert.equal(h.cleanCut, false, 'the header began in the earlier chunk');
});

test('message rate: a burst, then tokens refill with time; continuations are not messages', () => {
  const g = new MessageGate(0, 10, 2, 0);
  assert.equal(g.consume(Buffer.concat([frame(1, 1, false), frame(0, 1), frame(1, 1)]), 0, false), PASS);
  const third = frame(1, 1);
  assert.equal(g.consume(third, 0, false), 0);
  assert.equal(g.violation, CLOSE_POLICY);
  const h = new MessageGate(0, 10, 1, 0);
  assert.equal(h.consume(frame(1, 1), 0, false), PASS);
  assert.equal(h.consume(frame(1, 1), 100, false), PASS);
});

test('stopAtBoundary stops at the end of the frame in flight', () => {
  const g = new MessageGate(0, 0, 1, 0);
  const a = frame(2, 50);
  assert.equal(g.consume(a.subarray(0, 20), 0, false), PASS);
  assert.ok(!g.atBoundary);
  const rest = Buffer.concat([a.subarray(20), frame(1, 5)]);
  assert.equal(g.consume(rest, 0, true), a.length - 20);
  assert.ok(g.atBoundary);
  assert.equal(g.consume(frame(1, 5), 0, true), 0);
});

test('the masked close frame unmasks to code and reason', () => {
  const f = maskedCloseFrame(1008, 'token expired', Uint8Array.from([9, 8, 7, 6]));
  assert.equal(f[0], 0x88);
  assert.equal(f[1], 0x80 | 15);
  const payload = Buffer.from(f.subarray(6).map((b, i) => b ^ [9, 8, 7, 6][i & 3]));
  assert.equal(payload.readUInt16BE(0), 1008);
  assert.equal(payload.subarray(2).toString(), 'token expired');
});
