/**
 * Issue 10: no path tricks. Only /public (and /files, which allows encoded
 * slashes) is routed. Routing and forwarding use one normalised path, for
 * plain HTTP and for upgrades alike: dot segments that a normalising
 * backend would resolve into /internal never reach the /public pool, and
 * encoded slashes, backslashes, NUL and disguised dot segments get 400.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend, type TestBackend } from '../harness/backend';
import { startProxy } from '../harness/proxy';
import { upgradeRequest } from '../harness/raw-client';
import { converse, responses, statuses } from '../harness/hostile';
import { nodeConfig, rawNodeConfig } from '../fixtures/node-config';
import type { ProxyNode } from '../../node/proxy-node';

let pub: TestBackend;
let files: TestBackend;
let node: ProxyNode;
let port = 0;

before(async () => {
  pub = await startBackend({ id: 'pub' });
  files = await startBackend({ id: 'files' });
  const raw = rawNodeConfig({ port: 0, backendUrls: [pub.url] });
  raw.routes = [{ host: '*', path: '/public', pool: 'app' }, { host: '*', path: '/files', pool: 'files', allowEncodedSlashes: true }];
  raw.pools.files = { backends: [{ id: 'files-1', url: files.url }] };
  node = await startProxy(nodeConfig(raw));
  port = node.portOf('public')!;
});
after(async () => { node.destroy(); await pub.close(); await files.close(); });

type Kind = 'http' | 'upgrade';
const KINDS: Kind[] = ['http', 'upgrade'];

function request(kind: Kind, target: string, extra = ''): string {
  return kind === 'http' ? `GET ${target} HTTP/1.1\r\nHost: a\r\n${extra}\r\n` : upgradeRequest(target);
}

async function statusOf(kind: Kind, target: string): Promise<number> {
  const r = await converse(port, request(kind, target), { until: responses(1), timeoutMs: 3000 });
  return statuses(r.response)[0] ?? 0;
}

/** What the backend saw last of this kind, after one request. */
async function forwardedAs(kind: Kind, target: string, backend = pub): Promise<string> {
  const before = backend.seen.length;
  const status = await statusOf(kind, target);
  assert.equal(status, kind === 'http' ? 200 : 101, `${target} was not served`);
  assert.equal(backend.seen.length, before + 1);
  return backend.seen.at(-1)!.url;
}

for (const kind of KINDS) {
  test(`${kind}: dot segments are removed before routing, so /public/.. cannot reach anything else`, async () => {
    const before = pub.seen.length;
    for (const target of ['/public/../internal', '/public/%2e%2e/internal', '/public/%2E%2E/internal', '/public/.%2e/internal', '/public/x/../../internal/secret']) {
      assert.equal(await statusOf(kind, target), 404, target);
    }
    assert.equal(pub.seen.length, before, 'nothing reached the /public pool');
  });

  test(`${kind}: the backend sees the path that was routed`, async () => {
    assert.equal(await forwardedAs(kind, '/public/./a'), '/public/a');
    assert.equal(await forwardedAs(kind, '/public/x/../a?q=%2e%2e/../b'), '/public/a?q=%2e%2e/../b');
    assert.equal(await forwardedAs(kind, '/%70ublic/%7Euser'), '/public/~user');
    assert.equal(await forwardedAs(kind, '/public/a%3fb%2a'), '/public/a%3Fb%2A');
    assert.equal(await forwardedAs(kind, '/public/..%252f..'), '/public/..%252f..');
  });

  test(`${kind}: encoded slashes, backslashes, NUL, bad escapes, disguised dot segments and climbing above the root get 400`, async () => {
    const before = pub.seen.length;
    for (const target of [
      '/public/..%2finternal', '/public/..%2Finternal', '/public%2f..%2finternal',
      '/public\\..\\internal', '/public/%5c..%5cinternal', '/public/%5C',
      '/public/%00', '/public/a%00.html', '/public/%', '/public/%zz', '/public/%2',
      '/public/..;/internal', '/public/.;/x', '/public/..;jsessionid=1/internal', '/public/..%3b/internal',
      '/..', '/../public', '/public/../../public', '/%2e%2e/public', '/public/./../..',
    ]) {
      assert.equal(await statusOf(kind, target), 400, target);
    }
    assert.equal(pub.seen.length, before, 'nothing reached the backend');
  });

  test(`${kind}: a route that allows encoded slashes gets them encoded, never as separators`, async () => {
    assert.equal(await forwardedAs(kind, '/files/a%2fb', files), '/files/a%2Fb');
    assert.equal(await forwardedAs(kind, '/files/x/..%2F..%2Fpublic', files), '/files/x/..%2F..%2Fpublic');
    assert.equal(await statusOf(kind, '/files/a%5cb'), 400, 'a backslash is never allowed');
  });
}

test('an absolute-form target is routed by its path and forwarded in origin form; one disagreeing with Host gets 400', async () => {
  const before = pub.seen.length;
  const ok = await converse(port, 'GET http://A:80/public/../public/abs HTTP/1.1\r\nHost: a\r\n\r\n', { until: responses(1), timeoutMs: 3000 });
  assert.equal(statuses(ok.response)[0], 200, ok.response);
  assert.equal(pub.seen.at(-1)?.url, '/public/abs');
  for (const bad of ['GET http://other.test/public/x HTTP/1.1\r\nHost: a\r\n\r\n', 'GET http://a:8080/public/x HTTP/1.1\r\nHost: a\r\n\r\n', 'GET http://user@a/public/x HTTP/1.1\r\nHost: a\r\n\r\n']) {
    const r = await converse(port, bad, { timeoutMs: 3000 });
    assert.deepEqual(statuses(r.response), [400], bad);
  }
  assert.equal(pub.seen.length, before + 1);
});
