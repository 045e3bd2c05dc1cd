/**
 * Seed inputs of the fuzzer: valid request heads, upgrades, PROXY headers
 * and WebSocket frames, and the classic smuggling and path-trick shapes.
 * Every seed names its case id in the path (`/fz/ID/...`) and in an
 * `X-Fuzz-Case` header; anything smuggled asks for `/internal/ID`, a path
 * no route serves, so that a backend that ever sees it is a finding.
 */
import { encodeProxyHeader } from '../../node/listen/proxy-protocol';
import type { Rng } from './rng';

/** Which listener a seed is for. */
export type Target = 'plain' | 'proxy';

/** One seed: the bytes (in parts: how the client would write them), and its kind. */
export interface Seed {
  kind: string;
  target: Target;
  parts: Buffer[];
  /** True when the client then speaks WebSocket (frames follow the 101). */
  websocket: boolean;
}

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const b = (s: string) => Buffer.from(s, 'latin1');

const inner = (id: number) => `GET /internal/${id} HTTP/1.1\r\nHost: fuzz.test\r\n\r\n`;
const chunked = (s: string) => `${s.length.toString(16)}\r\n${s}\r\n0\r\n\r\n`;

function head(method: string, path: string, id: number, extra: string[] = [], version = 'HTTP/1.1'): string {
  return `${method} ${path} ${version}\r\nHost: fuzz.test\r\nX-Fuzz-Case: ${id}\r\nUser-Agent: wsha-fuzz\r\n${extra.map((h) => `${h}\r\n`).join('')}\r\n`;
}

function upgradeHead(path: string, id: number, extra: string[] = [], version = 'HTTP/1.1'): string {
  return head('GET', path, id, ['Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13', ...extra], version);
}

const PATH_TRICKS = [
  '../../internal', '%2e%2e/%2e%2e/internal', '..%2f..%2finternal', '..;/..;/internal', '\\..\\..\\internal', '%5c..%5c..%5cinternal',
  '.%2e/.%2e/internal', 'a/%00/b', '%', '%zz', '..%00/', '/./././', '//..//..//internal', '%252e%252e/internal', '..%3b/internal', 'x;y/../..',
  '%c0%ae%c0%ae/internal', 'a#b', '%2E%2E%2F', '...', '.;', '..\t', 'a?b=../../x',
];

const TE_TRICKS = [
  'Transfer-Encoding: chunked', 'Transfer-Encoding: Chunked', 'Transfer-Encoding: chunked, identity', 'Transfer-Encoding: gzip, chunked',
  'Transfer-Encoding: xchunked', 'Transfer-Encoding : chunked', 'Transfer-Encoding:\tchunked', 'Transfer-Encoding: \x0bchunked',
  'Transfer-Encoding: chunked\r\nTransfer-Encoding: identity', 'Transfer-Encoding: "chunked"', 'Transfer-Encoding:\r\n chunked',
  'X-Foo: bar\r\nTransfer-Encoding: chunked', 'Transfer_Encoding: chunked', 'Transfer-Encoding: chunk',
];

/** A masked client frame with the given opcode and payload (mask key random). */
export function clientFrame(rng: Rng, opcode: number, payload: Buffer, fin = true, rsv = 0): Buffer {
  const len = payload.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const h = Buffer.alloc(2 + ext + 4);
  h[0] = (fin ? 0x80 : 0) | (rsv << 4) | opcode;
  h[1] = 0x80 | (ext === 0 ? len : ext === 2 ? 126 : 127);
  if (ext === 2) h.writeUInt16BE(len, 2);
  if (ext === 8) h.writeBigUInt64BE(BigInt(len), 2);
  const mask = rng.bytes(4);
  mask.copy(h, 2 + ext);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
  return Buffer.concat([h, body]);
}

/** A few WebSocket frames: text (sometimes invalid UTF-8), binary, fragments, pings, bad opcodes, oversized lengths, a close. */
export function frames(rng: Rng): Buffer[] {
  const out: Buffer[] = [];
  const n = 1 + rng.int(5);
  for (let i = 0; i < n; i++) {
    switch (rng.int(9)) {
      case 0: out.push(clientFrame(rng, 1, Buffer.from(`hello ${rng.int(1000)}`))); break;
      case 1: out.push(clientFrame(rng, 1, Buffer.from([0xc3, 0x28, 0xed, 0xa0, 0x80, 0xff]))); break;
      case 2: out.push(clientFrame(rng, 2, rng.bytes(rng.int(300)))); break;
      case 3: out.push(clientFrame(rng, 1, Buffer.from('frag'), false), clientFrame(rng, 0, Buffer.from('ment'))); break;
      case 4: out.push(clientFrame(rng, 9, Buffer.from('ping'))); break;
      case 5: out.push(clientFrame(rng, 3 + rng.int(5), rng.bytes(rng.int(20)))); break;
      case 6: out.push(clientFrame(rng, 1, Buffer.from('rsv'), true, 1 + rng.int(7))); break;
      case 7: out.push(Buffer.from([0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])); break;
      default: { const p = Buffer.alloc(2); p.writeUInt16BE([1000, 1001, 1002, 0, 999, 5000, 65535][rng.int(7)]); out.push(clientFrame(rng, 8, p)); }
    }
  }
  return out;
}

/** Every seed shape, by name. */
export const SEEDS: Record<string, (id: number, rng: Rng) => Seed> = {
  get: (id) => plain('get', head('GET', `/fz/${id}/a?x=1`, id)),
  head: (id) => plain('head', head('HEAD', `/fz/${id}/h`, id)),
  postLength: (id) => plain('postLength', head('POST', `/fz/${id}/p`, id, ['Content-Length: 11', 'Content-Type: text/plain']) + 'hello=world'),
  postChunked: (id) => plain('postChunked', head('POST', `/fz/${id}/c`, id, ['Transfer-Encoding: chunked']) + '5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n'),
  pipelined: (id) => plain('pipelined', head('GET', `/fz/${id}/1`, id) + head('GET', `/fz/${id}/2`, id) + head('POST', `/fz/${id}/3`, id, ['Content-Length: 2']) + 'ok'),
  expect: (id) => plain('expect', head('PUT', `/fz/${id}/e`, id, ['Expect: 100-continue', 'Content-Length: 4']) + 'body'),
  http10: (id) => plain('http10', head('GET', `/fz/${id}/old`, id, [], 'HTTP/1.0')),
  versions: (id, rng) => plain('versions', rng.pick([`GET /fz/${id}\r\n`, `GET /fz/${id}\r\n\r\n`, head('GET', `/fz/${id}`, id, [], rng.pick(['HTTP/0.9', 'HTTP/2.0', 'HTTP/1.2', 'HTTP/3', 'http/1.1', 'HTTP/1.1 ', 'HTTP/11'])), `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`])),
  absolute: (id, rng) => plain('absolute', head('GET', rng.pick([`http://fuzz.test/fz/${id}/abs`, `http://other.test/fz/${id}/abs`, `https://fuzz.test:443/fz/${id}`, `http://user@fuzz.test/fz/${id}`, `*`, `fuzz.test:80`]), id)),
  connect: (id) => plain('connect', `CONNECT internal.test:443 HTTP/1.1\r\nHost: internal.test:443\r\nX-Fuzz-Case: ${id}\r\n\r\n`),
  twoHosts: (id) => plain('twoHosts', head('GET', `/fz/${id}/hh`, id, ['Host: internal.test'])),
  smuggleClTe: (id) => plain('smuggleClTe', head('POST', `/fz/${id}/s`, id, ['Content-Length: 6', 'Transfer-Encoding: chunked']) + '0\r\n\r\n' + inner(id)),
  smuggleTeCl: (id) => plain('smuggleTeCl', head('POST', `/fz/${id}/s`, id, ['Transfer-Encoding: chunked', 'Content-Length: 4']) + chunked(inner(id))),
  smuggleConnection: (id, rng) => plain('smuggleConnection', head(rng.pick(['GET', 'POST', 'DELETE']), `/fz/${id}/k`, id, [`Connection: ${rng.pick(['content-length', 'keep-alive, content-length', 'transfer-encoding', 'host', 'Content-Length, close'])}`, `Content-Length: ${inner(id).length}`]) + inner(id)),
  smuggleTeOnGet: (id, rng) => plain('smuggleTeOnGet', head(rng.pick(['GET', 'HEAD', 'DELETE', 'OPTIONS']), `/fz/${id}/t`, id, ['Transfer-Encoding: chunked']) + chunked(inner(id)) + head('GET', `/fz/${id}/after`, id)),
  teTricks: (id, rng) => plain('teTricks', head('POST', `/fz/${id}/te`, id, [rng.pick(TE_TRICKS)]) + chunked(inner(id)) + head('GET', `/fz/${id}/after`, id)),
  pathTrick: (id, rng) => plain('pathTrick', head('GET', `/fz/${id}/${rng.pick(PATH_TRICKS)}`, id)),
  upgrade: (id, rng) => ({ kind: 'upgrade', target: 'plain', parts: [b(upgradeHead(`/ws/${id}`, id)), ...frames(rng)], websocket: true }),
  upgradePipelined: (id, rng) => ({ kind: 'upgradePipelined', target: 'plain', parts: [Buffer.concat([b(upgradeHead(`/ws/${id}`, id)), ...frames(rng)])], websocket: true }),
  upgradePathTrick: (id, rng) => ({ kind: 'upgradePathTrick', target: 'plain', parts: [b(upgradeHead(`/ws/${id}/${rng.pick(PATH_TRICKS)}`, id))], websocket: true }),
  upgradeOdd: (id) => plain('upgradeOdd', upgradeHead(`/odd/${id}`, id) + inner(id)),
  upgradeHttp10: (id) => plain('upgradeHttp10', upgradeHead(`/ws/${id}`, id, [], 'HTTP/1.0')),
  upgradeH2c: (id) => plain('upgradeH2c', head('GET', `/fz/${id}/h2c`, id, ['Upgrade: h2c', 'Connection: Upgrade, HTTP2-Settings', 'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA']) + inner(id)),
  proxyV1: (id, rng) => ({ kind: 'proxyV1', target: 'proxy', parts: [Buffer.concat([encodeProxyHeader('v1', { address: '192.0.2.1', port: 1000 + rng.int(60000) }, { address: '198.51.100.2', port: 80 }), b(head('GET', `/fz/${id}/pp`, id))])], websocket: false }),
  proxyV2: (id, rng) => ({ kind: 'proxyV2', target: 'proxy', parts: [Buffer.concat([encodeProxyHeader('v2', { address: rng.pick(['192.0.2.1', '2001:db8::1']), port: 1000 + rng.int(60000) }, { address: rng.pick(['198.51.100.2', '2001:db8::2']), port: 443 }), b(upgradeHead(`/ws/${id}`, id))]), ...frames(rng)], websocket: true }),
  proxyGarbage: (id, rng) => ({ kind: 'proxyGarbage', target: 'proxy', parts: [Buffer.concat([rng.pick([b('PROXY TCP4 1.2.3.4\r\n'), b('PROXY UNKNOWN\r\n'), Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0xff, 0xff]), b('GET / HTTP/1.1\r\n')]), b(head('GET', `/fz/${id}`, id))])], websocket: false }),
};

function plain(kind: string, text: string): Seed {
  return { kind, target: 'plain', parts: [b(text)], websocket: false };
}
