/** `wsha demo`: a whole local cluster on this machine (see cluster/demo/run-demo.ts). */
import type { Command } from 'commander';
import { runDemo } from '../../demo/run-demo';
import { action } from '../exit';
import { ProgressLine } from '../progress';

interface DemoFlags { failover?: boolean; failoverAfter: string; duration?: string; keep?: boolean }

/** Registers `wsha demo` on the program. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('start a local cluster (own Redis, 2 echo backends, 2 nodes sharing a VIP on 127.0.0.x) and a client talking through the VIP')
    .option('--failover', 'kill the VIP owner with SIGKILL after a few seconds and show the takeover')
    .option('--failover-after <ms>', 'when --failover kills the owner', '4000')
    .option('--duration <s>', 'stop by itself after this many seconds')
    .option('--keep', 'keep the temporary folder with configs and logs')
    .addHelpText('after', '\nExamples:\n  wsha demo\n  wsha demo --failover --duration 12\n\nCtrl-C stops everything the demo started.\nExit codes: 0 ran and stopped cleanly, 1 the demo could not start or the takeover did not happen.')
    .action(action(async (f: DemoFlags) => {
      const durationS = f.duration === undefined ? null : Number(f.duration);
      if (durationS !== null && !(durationS > 0)) throw new Error('--duration expects a number of seconds > 0');
      process.exitCode = await runDemo({
        failover: f.failover === true, failoverAfterMs: Math.max(0, Number(f.failoverAfter) || 4000), durationS, keep: f.keep === true,
        out: (line) => process.stdout.write(line + '\n'), progress: new ProgressLine(true),
      });
    }));
}
