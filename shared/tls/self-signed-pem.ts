/**
 * The development certificate of a `tls: { selfSigned: true }` listener,
 * made once per process and node id and kept across reloads: clients told to
 * trust it keep trusting it, and SIGHUP does not block on an RSA key
 * generation. The control process makes it and hands the PEM to every
 * worker, so that all workers of a node serve the same certificate.
 */
import { isIP } from 'node:net';
import type { Config, ListenerConfig } from '../config/schema';
import { generateSelfSigned } from './self-signed';

/** A PEM certificate and its private key. */
export interface PemPair { cert: string; key: string }

const cache = new Map<string, PemPair>();

/** SANs of a listener's self-signed certificate: loopback names, the VIP address of a `vip:` listener, an IP `on`. */
export function selfSignedAltNames(listener: ListenerConfig, vipAddress?: string): string[] {
  const out = ['localhost', '127.0.0.1', '::1'];
  if (vipAddress) out.push(vipAddress);
  if (isIP(listener.on) !== 0) out.push(listener.on);
  return out;
}

/** The certificate for `nodeId` and these SANs (generated on first use, then cached). */
export function selfSignedPem(nodeId: string, altNames: readonly string[]): PemPair {
  const key = `${nodeId}\n${altNames.join(',')}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const pem = generateSelfSigned({ commonName: nodeId, altNames: [...altNames] });
  const pair = Object.freeze({ cert: pem.certPem, key: pem.keyPem });
  cache.set(key, pair);
  return pair;
}

/** Listener name -> certificate, for every listener of `config` that serves a self-signed one. */
export function selfSignedPems(config: Config): Record<string, PemPair> {
  const out: Record<string, PemPair> = {};
  for (const l of config.listeners) {
    if (!l.tls?.selfSigned || l.tls.certs?.length) continue;
    const vip = l.on.startsWith('vip:') ? config.vips.find((v) => v.name === l.on.slice(4)) : undefined;
    out[l.name] = selfSignedPem(config.node.id, selfSignedAltNames(l, vip?.address));
  }
  return out;
}
