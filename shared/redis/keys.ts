/**
 * The whole Redis key layout. Every key of a cluster lives under
 * `wsha:v1:{CLUSTER}:` — the braces are a Redis Cluster hash tag, so every
 * key of one cluster sits in one slot and multi-key Lua scripts work there too.
 *
 * | key                               | type   | what                                        |
 * |-----------------------------------|--------|---------------------------------------------|
 * | node:{id}                         | string | heartbeat JSON, PX = heartbeat timeout      |
 * | nodes                             | zset   | node ids by last heartbeat (ms)             |
 * | lease:{vip}                       | string | "nodeId:epoch", PX = lease TTL              |
 * | epoch:{vip}                       | string | last epoch handed out (INCR)                |
 * | vip:{vip}                         | hash   | owner, epoch, since, reason (last change)   |
 * |                                   |        | + driver, address, preempt (each node, start)|
 * | handover:{vip}                    | string | JSON of a planned handover in progress      |
 * | drained                           | set    | node ids in maintenance (`wsha drain`)      |
 * | health:{pool}:{backend}           | hash   | nodeId -> observation JSON                  |
 * | verdict:{pool}                    | hash   | backendId -> up|down (merged)               |
 * | session:{pool}:{key}              | string | backendId, PX = affinity TTL                |
 * | conns:{pool}                      | hash   | "{nodeId}|{backendId}" -> open connections  |
 * |                                   |        | + "{nodeId}|@" -> wall ms of that write     |
 * | pools                             | hash   | pool -> JSON of live changes (versioned)    |
 * | pools:version                     | string | version of live pool changes (INCR)         |
 * | rate:{route}|{kind}|{scope}[|{ip}] | hash   | tokens, ms: cluster-wide rate bucket        |
 * | events (channel)                  | pubsub | JSON events: verdict, pools, handover, ...  |
 * | history                           | stream | cluster event history (field e = JSON event)|
 * | history:caps                      | hash   | maxCount, maxAgeMs of that stream (nodes)   |
 * | history:last                      | hash   | last recorded state per subject (once-only) |
 * |                                   |        | + "seq:{node}" -> "{process}:{seq}" written |
 * | history:samples                   | stream | connection counts per node over time        |
 * | pools:effective                   | hash   | nodeId -> JSON of the pools it routes with  |
 */
export const KEY_VERSION = 'v1';

/** Builds every key of one cluster. */
export class RedisKeys {
  readonly prefix: string;
  constructor(readonly cluster: string) {
    this.prefix = `wsha:${KEY_VERSION}:{${cluster}}:`;
  }
  node(id: string): string { return `${this.prefix}node:${id}`; }
  nodes(): string { return `${this.prefix}nodes`; }
  lease(vip: string): string { return `${this.prefix}lease:${vip}`; }
  epoch(vip: string): string { return `${this.prefix}epoch:${vip}`; }
  vip(vip: string): string { return `${this.prefix}vip:${vip}`; }
  handover(vip: string): string { return `${this.prefix}handover:${vip}`; }
  /** Set of drained node ids; persists across restarts until `wsha undrain`. */
  drained(): string { return `${this.prefix}drained`; }
  health(pool: string, backend: string): string { return `${this.prefix}health:${pool}:${backend}`; }
  verdict(pool: string): string { return `${this.prefix}verdict:${pool}`; }
  session(pool: string, key: string): string { return `${this.prefix}session:${pool}:${key}`; }
  sessionPattern(pool: string): string { return `${this.prefix}session:${pool}:*`; }
  conns(pool: string): string { return `${this.prefix}conns:${pool}`; }
  pools(): string { return `${this.prefix}pools`; }
  poolsVersion(): string { return `${this.prefix}pools:version`; }
  /** Pub/sub channel of cluster events. */
  events(): string { return `${this.prefix}events`; }
  /** Cluster-wide token bucket of a route rate limit (routes[].rateLimit.cluster); `id` is route, kind and scope (issue 12). */
  rateBucket(id: string): string { return `${this.prefix}rate:${id}`; }
  /** Stream of the cluster event history (shared/history-event.ts). */
  history(): string { return `${this.prefix}history`; }
  /** Caps of the history stream, written by every node at start; every writer trims by them. */
  historyCaps(): string { return `${this.prefix}history:caps`; }
  /** Last recorded state per subject (an event recorded once however many nodes see it) and last sequence per node. */
  historyLast(): string { return `${this.prefix}history:last`; }
  /** Stream of connection-count samples per node (the live page's timeline). */
  historySamples(): string { return `${this.prefix}history:samples`; }
  /** The pools each node routes with right now (file config plus live changes), field = node id. */
  poolsEffective(): string { return `${this.prefix}pools:effective`; }
  /** Per-node command channel (drain, undrain, handover steps). */
  commands(nodeId: string): string { return `${this.prefix}cmd:${nodeId}`; }
}
