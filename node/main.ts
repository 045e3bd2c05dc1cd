/**
 * Process entry of one proxy node (composition root): loads the config,
 * builds the node, wires signals. PLACEHOLDER until the data plane lands:
 * owned by the data-plane engineer, who replaces this body.
 */
import { loadConfig } from '../shared/config/load';
import { ConfigError } from '../shared/errors';

export async function runNode(configPath: string): Promise<void> {
  try {
    loadConfig(configPath);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  throw new Error('the data plane is not built yet');
}
