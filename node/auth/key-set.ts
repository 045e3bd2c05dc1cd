/**
 * Verification keys as jose wants them, from the three places a route can
 * name: PEM (SPKI) or JWK/JWKS files and an HS256 secret file (read at
 * config time, synchronously, so a bad file refuses the config), and JWKS
 * documents fetched later (jwks-source.ts). Each key serves exactly one
 * algorithm, derived from its type: RSA -> RS256, EC P-256 -> ES256,
 * Ed25519 -> EdDSA, secret -> HS256.
 */
import { readFileSync } from 'node:fs';
import { createPublicKey, type JsonWebKey as NodeJwk } from 'node:crypto';
import type { JWK, VerificationKey } from './jose-module';
import { KeyLoadError } from '../../shared/errors';
import { jose } from './jose-module';

/** An algorithm wsha verifies. */
export type JwtAlg = 'RS256' | 'ES256' | 'EdDSA' | 'HS256';

/** One verification key. */
export interface VerifyKey {
  readonly kid: string | null;
  readonly alg: JwtAlg;
  /** Imported on first use (WebCrypto import is asynchronous). */
  key(): Promise<VerificationKey>;
}

/** Smallest HS256 secret (RFC 7518 3.2: a key of the hash's size, 256 bits). */
export const MIN_SECRET_BYTES = 32;

/** The algorithm a JWK serves, or null when wsha has none for it. */
export function algOfJwk(jwk: JWK): JwtAlg | null {
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  return null;
}

/** A key from a public JWK; null when its type, use or declared alg is not one wsha verifies. */
export function keyFromJwk(jwk: JWK): VerifyKey | null {
  if (jwk.use && jwk.use !== 'sig') return null;
  const alg = algOfJwk(jwk);
  if (!alg || (jwk.alg && jwk.alg !== alg)) return null;
  // Only the public members: a JWKS that carries a private key must not make us hold it.
  const pub: JWK = { kty: jwk.kty, n: jwk.n, e: jwk.e, crv: jwk.crv, x: jwk.x, y: jwk.y };
  let imported: Promise<VerificationKey> | null = null;
  return {
    kid: typeof jwk.kid === 'string' ? jwk.kid : null,
    alg,
    key: () => (imported ??= jose().then((j) => j.importJWK(pub, alg))),
  };
}

/** Keys of one file: a PEM public key, a JWK or a JWKS document. Throws KeyLoadError. */
export function keysFromFile(file: string): VerifyKey[] {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (err) { throw new KeyLoadError(`cannot read JWT key file ${file}: ${(err as Error).message}`, err); }
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let doc: { keys?: JWK[] } & JWK;
    try { doc = JSON.parse(trimmed); } catch (err) { throw new KeyLoadError(`JWT key file ${file} is not valid JSON`, err); }
    const list = Array.isArray(doc.keys) ? doc.keys : [doc];
    const keys = list.map(keyFromJwk).filter((k): k is VerifyKey => k !== null);
    if (!keys.length) throw new KeyLoadError(`JWT key file ${file} holds no RSA, EC P-256 or Ed25519 signing key`);
    return keys;
  }
  let jwk: NodeJwk;
  try { jwk = createPublicKey(trimmed).export({ format: 'jwk' }); } catch (err) { throw new KeyLoadError(`JWT key file ${file} is not a PEM public key, JWK or JWKS`, err); }
  const key = keyFromJwk(jwk as JWK);
  if (!key) throw new KeyLoadError(`JWT key file ${file}: key type not supported (RSA, EC P-256 or Ed25519)`);
  return [key];
}

/** The HS256 key of a secret file (its bytes, trailing newline dropped). Throws KeyLoadError. */
export function keyFromSecretFile(file: string): VerifyKey {
  let bytes: Buffer;
  try { bytes = readFileSync(file); } catch (err) { throw new KeyLoadError(`cannot read JWT secret file ${file}: ${(err as Error).message}`, err); }
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
  const secret = new Uint8Array(bytes.subarray(0, end));
  if (secret.length < MIN_SECRET_BYTES) throw new KeyLoadError(`JWT secret file ${file} holds ${secret.length} bytes; HS256 needs at least ${MIN_SECRET_BYTES}`);
  return { kid: null, alg: 'HS256', key: () => Promise.resolve(secret) };
}

/**
 * The key for a token header among `keys`: the one with its `kid` (and
 * algorithm), or without a `kid` in the token, the first key of its
 * algorithm. Null when none fits.
 */
export function pickKey(keys: readonly VerifyKey[], kid: string | undefined, alg: string): VerifyKey | null {
  if (kid !== undefined) {
    for (const k of keys) if (k.kid === kid && k.alg === alg) return k;
    // A key without a kid of its own (a PEM file) serves any kid: a PEM carries no name.
    for (const k of keys) if (k.kid === null && k.alg === alg) return k;
    return null;
  }
  for (const k of keys) if (k.alg === alg) return k;
  return null;
}
