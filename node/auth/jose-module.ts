/**
 * The `jose` library, loaded once. jose is an ES module and wsha compiles
 * to CommonJS, so it comes in through a dynamic import; every verification
 * is asynchronous anyway (WebCrypto), so the first one awaiting the load
 * costs nothing extra. `preloadJose()` at config time makes the first
 * handshake not wait for it.
 */
import type { webcrypto } from 'node:crypto';
import type { JWK as JoseJwk, JWTPayload as JosePayload, JWTVerifyOptions as JoseVerifyOptions, JWSHeaderParameters as JoseHeader } from 'jose' with { 'resolution-mode': 'import' };

type Jose = typeof import('jose', { with: { 'resolution-mode': 'import' } });

/** jose's types, re-exported so that CommonJS files need no import attributes. */
export type JWK = JoseJwk;
export type JWTPayload = JosePayload;
export type JWTVerifyOptions = JoseVerifyOptions;
export type JWSHeaderParameters = JoseHeader;
/** A key jose verifies with: an imported WebCrypto key or an HMAC secret. */
export type VerificationKey = webcrypto.CryptoKey | Uint8Array;

let loading: Promise<Jose> | null = null;
let loaded: Jose | null = null;

/** The jose module (loads it on first call). */
export function jose(): Promise<Jose> {
  if (loaded) return Promise.resolve(loaded);
  loading ??= import('jose').then((m) => (loaded = m));
  return loading;
}

/** Starts loading jose now (routes with JWT call this when compiled). */
export function preloadJose(): void { void jose().catch(() => { loading = null; }); }

/** The jose module if already loaded, else null (lets hot paths skip an await). */
export function joseIfLoaded(): Jose | null { return loaded; }
