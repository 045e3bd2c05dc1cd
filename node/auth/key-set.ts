/**
 * Verification keys as jose verifies with them, from the three places a
 * route can name: PEM (SPKI) or JWK/JWKS files and an HS256 secret file
 * (read at config time, synchronously, so a bad file refuses the config),
 * and JWKS documents fetched later (jwks-source.ts). Each key serves
 * exactly one algorithm, derived from its type: RSA -> RS256, EC P-256 ->
 * ES256, Ed25519 -> EdDSA, secret -> HS256.
 *
 * A key is imported once: jose's importJWK (a WebCrypto key) for public
 * keys, WebCrypto's raw HMAC import for the secret. `key()` imports on its
 * first call and keeps the promise; the verifier calls it for file keys
 * when it is built and the JWKS source for keys it has not held before,
 * before they serve, so handshakes verify with the same key object until
 * the key set is read again (a reload, or a JWKS refresh that brings a new
 * key). Node's crypto reads the JWK synchronously first, only to refuse a
 * bad or short key at load.
 */
import { readFileSync } from 'node:fs';
import { createPublicKey, webcrypto, type JsonWebKey as NodeJwk } from 'node:crypto';
import type { JWK, VerificationKey } from './jose-module';
import { KeyLoadError } from '../../shared/errors';
import { jose } from './jose-module';

/** An algorithm wsha verifies. */
export type JwtAlg = 'RS256' | 'ES256' | 'EdDSA' | 'HS256';

/** The members of a JWK that wsha reads (public members only). */
export interface Jwk {
  kty?: string; kid?: unknown; use?: string; alg?: string;
  n?: string; e?: string; crv?: string; x?: string; y?: string;
}

/** One verification key. */
export interface VerifyKey {
  readonly kid: string | null;
  readonly alg: JwtAlg;
  /** What identifies the key material (kid, alg and public members): equal fingerprints are the same key. */
  readonly fingerprint: string;
  /** The key jose verifies with, imported on the first call (the same promise on every call). */
  key(): Promise<VerificationKey>;
}

/** Smallest HS256 secret (RFC 7518 3.2: a key of the hash's size, 256 bits). */
export const MIN_SECRET_BYTES = 32;

/** Smallest RSA modulus accepted (RFC 7518 3.3; jose refuses smaller ones for RS256 as well). */
export const MIN_RSA_BITS = 2048;

/** The algorithm a JWK serves, or null when wsha has none for it. */
export function algOfJwk(jwk: Jwk): JwtAlg | null {
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  return null;
}

/** Runs `importing` on the first call and answers every call with its promise. */
function importedOnce(importing: () => Promise<VerificationKey>): () => Promise<VerificationKey> {
  let p: Promise<VerificationKey> | null = null;
  return () => (p ??= importing());
}

/** A key from a public JWK; null when its type, use, declared alg or size is not one wsha verifies. */
export function keyFromJwk(jwk: Jwk): VerifyKey | null {
  if (jwk.use && jwk.use !== 'sig') return null;
  const alg = algOfJwk(jwk);
  if (!alg || alg === 'HS256' || (jwk.alg && jwk.alg !== alg)) return null;
  // Only the public members: a JWKS that carries a private key must not make us hold it.
  const pub = Object.fromEntries(Object.entries({ kty: jwk.kty, n: jwk.n, e: jwk.e, crv: jwk.crv, x: jwk.x, y: jwk.y }).filter(([, v]) => v !== undefined)) as NodeJwk;
  let modulusLength: number | undefined;
  try { modulusLength = createPublicKey({ key: pub, format: 'jwk' }).asymmetricKeyDetails?.modulusLength; } catch { return null; }
  if (alg === 'RS256' && (modulusLength ?? 0) < MIN_RSA_BITS) return null;
  const kid = typeof jwk.kid === 'string' ? jwk.kid : null;
  return { kid, alg, fingerprint: JSON.stringify([kid, alg, pub]), key: importedOnce(() => jose().then((j) => j.importJWK(pub as JWK, alg) as Promise<VerificationKey>)) };
}

/** Keys of one file: a PEM public key, a JWK or a JWKS document. Throws KeyLoadError. */
export function keysFromFile(file: string): VerifyKey[] {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (err) { throw new KeyLoadError(`cannot read JWT key file ${file}: ${(err as Error).message}`, err); }
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let doc: { keys?: Jwk[] } & Jwk;
    try { doc = JSON.parse(trimmed); } catch (err) { throw new KeyLoadError(`JWT key file ${file} is not valid JSON`, err); }
    const list = Array.isArray(doc.keys) ? doc.keys : [doc];
    const keys = list.map(keyFromJwk).filter((k): k is VerifyKey => k !== null);
    if (!keys.length) throw new KeyLoadError(`JWT key file ${file} holds no RSA (at least ${MIN_RSA_BITS} bits), EC P-256 or Ed25519 signing key`);
    return keys;
  }
  let jwk: NodeJwk;
  try { jwk = createPublicKey(trimmed).export({ format: 'jwk' }); } catch (err) { throw new KeyLoadError(`JWT key file ${file} is not a PEM public key, JWK or JWKS`, err); }
  const key = keyFromJwk(jwk as Jwk);
  if (!key) throw new KeyLoadError(`JWT key file ${file}: key type not supported (RSA of at least ${MIN_RSA_BITS} bits, EC P-256 or Ed25519)`);
  return [key];
}

/** The HS256 key of a secret file (its bytes, trailing newline dropped). Throws KeyLoadError. */
export function keyFromSecretFile(file: string): VerifyKey {
  let bytes: Buffer;
  try { bytes = readFileSync(file); } catch (err) { throw new KeyLoadError(`cannot read JWT secret file ${file}: ${(err as Error).message}`, err); }
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
  if (end < MIN_SECRET_BYTES) throw new KeyLoadError(`JWT secret file ${file} holds ${end} bytes; HS256 needs at least ${MIN_SECRET_BYTES}`);
  const secret = new Uint8Array(bytes.subarray(0, end));
  return {
    kid: null,
    alg: 'HS256',
    fingerprint: `secret:${file}`,
    key: importedOnce(() => webcrypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])),
  };
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
