/**
 * The cluster secret every node started by this test process shares: new
 * random bytes per test process, handed to each node through
 * WSHA_CLUSTER_SECRET (never written to a config file), and to the tests'
 * own peer-link clients (the sampler's `state?`).
 */
import { randomBytes } from 'node:crypto';
import { SECRET_ENV } from '../../cluster/peer/peer-secret';

/** The secret as the nodes read it. */
export const TEST_CLUSTER_SECRET = randomBytes(24).toString('hex');

/** `env` with the secret added. */
export function withClusterSecret(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, [SECRET_ENV]: TEST_CLUSTER_SECRET };
}

/** The secret as bytes, for peer-link clients. */
export function testSecretBytes(): Buffer { return Buffer.from(TEST_CLUSTER_SECRET, 'utf8'); }
