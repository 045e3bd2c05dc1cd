/** The typed IPC endpoint, two ends wired back to back in memory (structured clone, as the advanced channel does). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RpcEndpoint, RpcUnansweredError, type RpcMessage } from '../../../../shared/ipc/rpc-endpoint';
import { fromWire, toWire } from '../../../../shared/ipc/wire-error';
import { ConfigError, WshaError, WorkerError } from '../../../../shared/errors';

type AOps = { add: { args: { a: number; b: number }; result: number }; fail: { args: string; result: null }; slow: { args: null; result: null } };
type BOps = { echo: { args: string; result: string } };
type ANotes = { hello: { n: number } };
type BNotes = { tick: number };

function pair(): { a: RpcEndpoint<AOps, BOps, ANotes, BNotes>; b: RpcEndpoint<BOps, AOps, BNotes, ANotes>; cut: () => void } {
  let open = true;
  const wire = (to: () => RpcEndpoint<any, any, any, any>) => (m: RpcMessage) => {
    if (!open) throw new Error('channel closed');
    const copy = structuredClone(m);
    setImmediate(() => to().receive(copy));
  };
  const a: RpcEndpoint<AOps, BOps, ANotes, BNotes> = new RpcEndpoint(wire(() => b));
  const b: RpcEndpoint<BOps, AOps, BNotes, ANotes> = new RpcEndpoint(wire(() => a));
  return { a, b, cut: () => { open = false; } };
}

test('calls get their result, errors come back as the classes callers test for', async () => {
  const { a, b } = pair();
  a.serve('add', ({ a: x, b: y }) => x + y);
  a.serve('fail', (what) => {
    if (what === 'config') throw new ConfigError('invalid config', ['limits.maxConnections: expected a count']);
    if (what === 'worker') throw new WorkerError('no worker');
    const e = new Error('listen EADDRINUSE: address already in use') as NodeJS.ErrnoException;
    e.code = 'EADDRINUSE';
    throw e;
  });
  assert.equal(await b.call('add', { a: 2, b: 3 }, 1000), 5);
  await assert.rejects(b.call('fail', 'config', 1000), (err: unknown) => err instanceof ConfigError && err.problems[0] === 'limits.maxConnections: expected a count' && err.message.split('\n').length === 2);
  await assert.rejects(b.call('fail', 'worker', 1000), (err: unknown) => err instanceof WshaError && err.code === 'WSHA_ERR_WORKER' && err.httpStatus === 503);
  await assert.rejects(b.call('fail', 'errno', 1000), (err: NodeJS.ErrnoException) => err.code === 'EADDRINUSE' && /EADDRINUSE/.test(err.message));
  assert.equal(b.pending, 0);
});

test('notifications reach their listener; an unknown op is an error reply, not a hang', async () => {
  const { a, b } = pair();
  const got: number[] = [];
  a.on('hello', ({ n }) => got.push(n));
  b.notify('hello', { n: 1 });
  b.notify('hello', { n: 2 });
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(got, [1, 2]);
  await assert.rejects(a.call('echo', 'x', 1000), /unknown op echo/);
});

test('no answer in time, a closed channel and close() all fail the call with RpcUnansweredError', async () => {
  const { a, b, cut } = pair();
  a.serve('slow', () => new Promise(() => {}));
  await assert.rejects(b.call('slow', null, 30), (err: unknown) => err instanceof RpcUnansweredError && /within 30 ms/.test(err.message));
  const pending = b.call('slow', null, 5000);
  b.close('worker 0 exited (SIGKILL)');
  await assert.rejects(pending, (err: unknown) => err instanceof RpcUnansweredError && /SIGKILL/.test(err.message));
  await assert.rejects(b.call('add', { a: 1, b: 1 }, 1000), RpcUnansweredError);
  const c = pair();
  c.cut();
  await assert.rejects(c.b.call('add', { a: 1, b: 1 }, 1000), /channel closed/);
  c.b.notify('hello', { n: 1 }); // dropped silently
  cut();
});

test('a wire error of an unknown kind keeps name, message and code', () => {
  const back = fromWire(toWire(Object.assign(new TypeError('bad'), { code: 'ERR_X' })));
  assert.equal(back.name, 'TypeError');
  assert.equal(back.message, 'bad');
  assert.equal((back as NodeJS.ErrnoException).code, 'ERR_X');
  assert.equal(fromWire(toWire('a string')).message, 'a string');
});
