/**
 * `wsha vip cleanup --config FILE`: removes the addresses of this node's
 * `linux` VIPs from their interfaces. A node killed while owning a VIP leaves
 * its address configured; the systemd unit runs this as ExecStopPost (see
 * deploy/systemd/wsha-vip-cleanup) so the host stops answering for the VIP
 * before anything restarts, and the node runs the same cleanup at start.
 * `exec` VIPs are left alone unless --exec is given: their `down` script
 * (ACTION=cleanup) may talk to a cloud API, which an operator should opt in to.
 */
import type { Command } from 'commander';
import { loadConfig } from '../../../shared/config/load';
import { createLogger } from '../../../shared/logger';
import type { VipConfig } from '../../../shared/config/schema';
import { LinuxDriver } from '../../vip/drivers/linux';
import { ExecDriver } from '../../vip/drivers/exec';
import type { VipDriver } from '../../vip/drivers/driver';
import { action } from '../exit';

/** Options of `wsha vip cleanup`. */
interface CleanupOptions {
  config: string;
  exec?: boolean;
  vip?: string;
}

/** The drivers whose addresses cleanup removes, for this config and options. */
export function cleanupTargets(vips: readonly VipConfig[], opts: { exec?: boolean; vip?: string }): VipConfig[] {
  return vips.filter((v) => (opts.vip === undefined || v.name === opts.vip) && (v.driver === 'linux' || (v.driver === 'exec' && opts.exec === true)));
}

/** Registers `wsha vip cleanup` under a `vip` command group. */
export function registerVipCleanupCommand(program: Command): void {
  const vip = program.commands.find((c) => c.name() === 'vip') ?? program.command('vip').description('act on this host\'s VIP addresses directly (no Redis)');
  vip
    .command('cleanup')
    .description('remove this host\'s leftover VIP addresses (linux driver; exec with --exec); for ExecStopPost')
    .requiredOption('-c, --config <file>', 'YAML config file of the node on this host')
    .option('--exec', 'also run the down command of exec VIPs with ACTION=cleanup')
    .option('--vip <name>', 'only this VIP')
    .addHelpText('after', '\nExample:\n  wsha vip cleanup --config /etc/wsha/node-a.yaml\n\nExit codes: 0 every address removed (or already absent), 1 some removal failed, 2 bad config.')
    .action(action(async (opts: CleanupOptions) => {
      const config = loadConfig(opts.config);
      const logger = createLogger({ nodeId: config.node.id, level: config.logging.level, fd: 2 });
      const targets = cleanupTargets(config.vips, opts);
      let failed = 0;
      for (const v of targets) {
        const driver: VipDriver = v.driver === 'linux' ? new LinuxDriver(v, logger) : new ExecDriver(v, logger);
        try {
          await driver.cleanup({ vip: v.name, address: v.address, nodeId: config.node.id });
          process.stdout.write(`${v.name}: ${v.address} removed${v.interface ? ` from ${v.interface}` : ''}\n`);
        } catch (err) {
          failed++;
          process.stderr.write(`${v.name}: ${err instanceof Error ? err.message : String(err)}\n`);
        }
      }
      if (targets.length === 0) process.stdout.write('no VIP to clean up (only linux VIPs, and exec VIPs with --exec)\n');
      logger.flush?.();
      process.exitCode = failed > 0 ? 1 : 0;
    }));
}
