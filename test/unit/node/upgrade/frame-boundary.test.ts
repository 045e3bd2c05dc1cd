import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameBoundary } from '../../../../node/upgrade/frame-boundary';

/** An unmasked (server-to-client) frame with `n` payload bytes, with the header form its length needs. */
function frame(n: number, masked = false): Buffer {
  const ext = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const h = Buffer.alloc(2 + ext + (masked ? 4 : 0));
  h[0] = 0x82;
  h[1] = (masked ? 0x80 : 0) | (ext === 0 ? n : ext === 2 ? 126 : 127);
  if (ext === 2) h.writeUInt16BE(n, 2);
  if (ext === 8) h.writeBigUInt64BE(BigInt(n), 2);
  return Buffer.concat([h, Buffer.alloc(n, 0x7e)]);
}

test('whole frames in one chunk end at a boundary', () => {
  const f = new FrameBoundary();
  const data = Buffer.concat([frame(0), frame(5), frame(200), frame(70000), frame(3, true)]);
  assert.equal(f.consume(data, false), data.length);
  assert.ok(f.atBoundary);
});

test('every split of a stream, even one byte at a time, tracks the same boundaries', () => {
  const frames = [frame(1), frame(125), frame(126), frame(65535), frame(65536), frame(9, true), frame(300, true), frame(70000, true)];
  const data = Buffer.concat(frames);
  const ends = new Set<number>();
  let at = 0;
  for (const fr of frames) { at += fr.length; ends.add(at); }
  for (const step of [1, 2, 3, 7, 13, 1000, 4096]) {
    const f = new FrameBoundary();
    for (let pos = 0; pos < data.length; pos += step) {
      const chunk = data.subarray(pos, Math.min(pos + step, data.length));
      f.consume(chunk, false);
      assert.equal(f.atBoundary, ends.has(pos + chunk.length), `step ${step}, after ${pos + chunk.length} bytes`);
    }
  }
});

test('stopAtBoundary takes only the rest of the frame in flight', () => {
  const f = new FrameBoundary();
  const a = frame(1000);
  const b = frame(10);
  f.consume(a.subarray(0, 300), false);
  assert.ok(!f.atBoundary);
  const rest = Buffer.concat([a.subarray(300), b]);
  assert.equal(f.consume(rest, true), a.length - 300, 'stops right after frame a');
  assert.ok(f.atBoundary);
  assert.equal(f.consume(b, true), 0, 'already at a boundary: takes nothing');
  const split = frame(126);
  f.consume(split.subarray(0, 3), false);
  assert.equal(f.consume(split.subarray(3), true), split.length - 3, 'a header split across chunks is completed first');
});
