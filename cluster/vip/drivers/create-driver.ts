/** Picks the VIP driver named by `vips[].driver`. */
import type { Logger } from 'pino';
import type { VipConfig } from '../../../shared/config/schema';
import { VipDriverError } from '../../../shared/errors';
import type { VipDriver } from './driver';
import { BindDriver } from './bind';
import { LinuxDriver, type CommandRunner, type GarpPort, type IpChange, type PrepareCommand } from './linux';
import { ExecDriver } from './exec';
import { runCommand } from './commands';

/** How a driver runs its commands: by default in this process; a node passes its VIP guard's. */
export interface DriverTools { run: CommandRunner; ipChange?: IpChange; prepare?: PrepareCommand; garp?: GarpPort }

/** Builds the driver for one VIP; throws VipDriverError for a driver that cannot be built. */
export function createDriver(vip: VipConfig, logger: Logger, tools: DriverTools = { run: runCommand }): VipDriver {
  switch (vip.driver) {
    case 'bind': return new BindDriver();
    case 'linux': return new LinuxDriver(vip, logger, tools.run, tools.ipChange, tools.prepare, tools.garp);
    case 'exec': return new ExecDriver(vip, logger, tools.run);
    default: throw new VipDriverError((vip as VipConfig).name, String((vip as VipConfig).driver), 'unknown driver');
  }
}
