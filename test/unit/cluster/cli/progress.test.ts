/**
 * Progress of long CLI operations: nothing at all off a terminal or with
 * --json; on a terminal one line rewritten in place and cleared before the
 * result; a handover's clients followed until the old owner has none left.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressLine, followClients, withTicker } from '../../../../cluster/cli/progress';
import type { CommandBus } from '../../../../cluster/control/command-bus';

function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const s = { isTTY, columns: 200, text: '', write(chunk: string) { s.text += chunk; return true; } };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

test('off a terminal, or when only the result is wanted, nothing is written', async () => {
  for (const [tty, wanted] of [[false, true], [true, false]] as const) {
    const s = fakeStream(tty);
    const line = new ProgressLine(wanted, s);
    assert.equal(await withTicker(line, () => 'working', Promise.resolve(7)), 7);
    line.update('x');
    assert.equal(s.text, '');
  }
});

test('on a terminal the line is rewritten in place and cleared at the end', async () => {
  const s = fakeStream(true);
  const line = new ProgressLine(true, s);
  await withTicker(line, () => 'handing over', new Promise((r) => setTimeout(r, 450)));
  const frames = s.text.split('\r\u001b[2K').filter(Boolean);
  assert.ok(frames.length >= 2, `frames: ${JSON.stringify(frames)}`);
  assert.match(frames[0]!, /^handing over \(0\.\d s\)$/);
  assert.ok(s.text.endsWith('\r\u001b[2K'), 'cleared before the result is printed');
});

test('the clients of a handover: closed, reconnected, total and the time left', async () => {
  let old = 4;
  let fresh = 0;
  const bus = {
    request: async (node: string) => {
      if (node === 'node-a') { const r = { vips: { front: old }, closeWindowMs: 5000 }; old = Math.max(0, old - 2); return r; }
      const r = { vips: { front: fresh }, closeWindowMs: 5000 }; fresh = Math.min(4, fresh + 2); return r;
    },
  } as unknown as CommandBus;
  const s = fakeStream(true);
  await followClients(new ProgressLine(true, s), bus, { vip: 'front', from: 'node-a', to: 'node-b', before: { from: 4, to: 0 } });
  const frames = s.text.split('\r\u001b[2K').filter(Boolean);
  assert.match(frames[0]!, /^VIP front node-a -> node-b: 0\/4 closed, 0 reconnected, [45]\.\d s left in the close window$/);
  assert.match(frames[frames.length - 1]!, /4\/4 closed, 4 reconnected/);
});
