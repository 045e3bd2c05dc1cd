/** Picks the VIP driver named by `vips[].driver`. */
import type { Logger } from 'pino';
import type { VipConfig } from '../../../shared/config/schema';
import { VipDriverError } from '../../../shared/errors';
import type { VipDriver } from './driver';
import { BindDriver } from './bind';
import { LinuxDriver } from './linux';
import { ExecDriver } from './exec';

/** Builds the driver for one VIP; throws VipDriverError for a driver that cannot be built. */
export function createDriver(vip: VipConfig, logger: Logger): VipDriver {
  switch (vip.driver) {
    case 'bind': return new BindDriver();
    case 'linux': return new LinuxDriver(vip, logger);
    case 'exec': return new ExecDriver(vip, logger);
    default: throw new VipDriverError((vip as VipConfig).name, String((vip as VipConfig).driver), 'unknown driver');
  }
}
