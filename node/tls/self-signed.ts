/**
 * Moved to shared/tls/self-signed.ts (the control process makes the
 * certificate once per node and hands it to every worker). This re-export
 * stays only while test/bench/tcp-relay.ts (owned by the bench work)
 * imports the old path; drop it when that import moves.
 */
export { generateSelfSigned, DEFAULT_CERT_DAYS, RSA_KEY_BITS, type CertificatePem, type SelfSignedOptions } from '../../shared/tls/self-signed';
