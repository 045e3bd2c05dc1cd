/**
 * The worker side of test/measure/affinity-ipc.ts: runs `count` sticky
 * lookups with `inFlight` at a time, either through the control process
 * (IPC, the way a worker does it) or against Redis directly (a SessionStore
 * with its own connection, the alternative), and sends back latencies and
 * its own CPU time.
 */
import { RpcEndpoint, type RpcMessage } from '../../shared/ipc/rpc-endpoint';
import type { ControlNotes, ControlOps, WorkerNotes, WorkerOps } from '../../shared/ports/worker-protocol';
import { createRedis } from '../../shared/redis/connect';
import { RedisSchema } from '../../shared/config/schema';
import { RedisKeys } from '../../shared/redis/keys';
import { silentLogger } from '../../shared/logger';
import { SessionStore } from '../../cluster/affinity/session-store';

/** What the child reports. */
export interface ChildResult { latenciesUs: number[]; cpuUs: number; wallMs: number }

async function run(mode: string, redisUrl: string, cluster: string, keys: number, count: number, inFlight: number): Promise<ChildResult> {
  let lookup: (pool: string, key: string) => Promise<string | null>;
  let done = () => {};
  if (mode === 'ipc') {
    const rpc = new RpcEndpoint<WorkerOps, ControlOps, WorkerNotes, ControlNotes>((m: RpcMessage) => { process.send!(m); });
    process.on('message', (m) => rpc.receive(m));
    lookup = (pool, key) => rpc.call('affinityLookup', { pool, key }, 5000);
  } else {
    const redis = createRedis(RedisSchema.parse({ url: redisUrl }), 'state');
    await redis.connect();
    const store = new SessionStore({ redis, keys: new RedisKeys(cluster), ttlMs: 600_000, lookupTimeoutMs: 5000, log: silentLogger() });
    lookup = (pool, key) => store.lookup(pool, key);
    done = () => redis.disconnect();
  }
  for (let i = 0; i < 200; i++) await lookup('app', `s${i % keys}`); // warm-up
  const latenciesUs: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  const lane = async () => {
    for (let guard = 0; guard < count && next < count; guard++) {
      const i = next++;
      const s = performance.now();
      const got = await lookup('app', `s${i % keys}`);
      latenciesUs.push((performance.now() - s) * 1000);
      if (got === null) throw new Error(`session s${i % keys} not found`);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(cpu0);
  done();
  return { latenciesUs, cpuUs: c.user + c.system, wallMs };
}

const [mode, redisUrl, cluster, keys, count, inFlight] = process.argv.slice(2);
run(mode!, redisUrl!, cluster!, Number(keys), Number(count), Number(inFlight)).then(
  (r) => { process.send!({ result: r }); setTimeout(() => process.exit(0), 50); },
  (err) => { process.stderr.write(`${(err as Error).stack}\n`); process.exit(1); },
);
