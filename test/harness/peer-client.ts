/**
 * An authenticated peer-link client for tests (the real handshake of
 * cluster/peer/peer-auth.ts): asks a node for its ownership snapshot with
 * `state?`, the way the never-two-owners sampler reads claims.
 */
import { connect } from 'node:net';
import { freshNonce, handshakeMac, macEqual, sessionKey } from '../../cluster/peer/peer-auth';
import { FrameSigner, FrameVerifier, LineSplitter, handshakeLine, parseHandshakeLine } from '../../cluster/peer/peer-frame';
import type { AgentSnapshot } from '../../cluster/cluster-agent';

/** One `state?` over a fresh authenticated connection; null when the node does not answer within `timeoutMs`. */
export function queryPeerState(o: { host?: string; port: number; cluster: string; secret: Buffer; timeoutMs?: number; node?: string }): Promise<AgentSnapshot | null> {
  return new Promise((resolve) => {
    const s = connect({ host: o.host ?? '127.0.0.1', port: o.port });
    const lines = new LineSplitter(1 << 20);
    const me = { node: o.node ?? 'test-sampler', inc: freshNonce() };
    let phase: 'hello' | 'ok' | 'up' = 'hello';
    let serverNonce = '';
    let nonce = '';
    let server = { node: '', inc: '' };
    let verifier: FrameVerifier | null = null;
    let done = false;
    const finish = (v: AgentSnapshot | null) => { if (done) return; done = true; clearTimeout(t); s.destroy(); resolve(v); };
    const t = setTimeout(() => finish(null), o.timeoutMs ?? 300);
    s.on('error', () => finish(null));
    s.on('close', () => finish(null));
    s.on('data', (chunk: Buffer) => {
      const got = lines.push(chunk);
      if (!got) return finish(null);
      for (const line of got) {
        if (phase === 'hello') {
          const h = parseHandshakeLine(line);
          if (!h || h.word !== 'HELLO') return finish(null);
          server = { node: String(h.body.node), inc: String(h.body.inc) };
          serverNonce = String(h.body.nonce);
          nonce = freshNonce();
          s.write(handshakeLine('AUTH', { v: 1, node: me.node, inc: me.inc, role: 'tool', nonce, mac: handshakeMac(o.secret, 'c', o.cluster, serverNonce, nonce, me, server, 'tool') }));
          phase = 'ok';
        } else if (phase === 'ok') {
          const h = parseHandshakeLine(line);
          if (!h || h.word !== 'OK' || !macEqual(String(h.body.mac), handshakeMac(o.secret, 's', o.cluster, serverNonce, nonce, me, server, 'tool'))) return finish(null);
          const key = sessionKey(o.secret, serverNonce, nonce);
          verifier = new FrameVerifier(key, 's');
          s.write(new FrameSigner(key, 'c').line({ t: 'state?', id: 1 }));
          phase = 'up';
        } else {
          const msg = verifier!.open(line);
          if (msg?.t === 'state') return finish(msg.snapshot as AgentSnapshot);
        }
      }
    });
  });
}
