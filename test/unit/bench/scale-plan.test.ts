/**
 * The scale test's plan: 100,000 connections need node.workers (20,000
 * files per process, two per tunnel), and a build without the key is told
 * so at once instead of failing half-way; what fits one process runs
 * without the key. Clients and backends are spread so that no process
 * holds more sockets than it may, nor a source address more than its ports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan } from '../../bench/scale-100k';

test('100,000 connections without node.workers: refused with what is missing', () => {
  assert.throws(() => plan({ connections: 100_000 }, false), /need node\.workers >= 11 .*no node\.workers key.*--connections 9000/s);
  assert.throws(() => plan({ connections: 5000, workers: 2 }, false), /no node\.workers key/);
});

test('what fits one process runs without the key', () => {
  const p = plan({ connections: 9000 }, false);
  assert.equal(p.writeWorkersKey, false);
  assert.equal(p.workers, 1);
  assert.equal(p.needWorkers, 1);
  assert.equal(p.clients, 1);
  assert.equal(p.backends, 2);
  assert.equal(p.addressesPerClient, 2);
});

test('100,000 connections with node.workers: 11 needed, one spare, clients and backends spread', () => {
  const p = plan({ connections: 100_000 }, true);
  assert.equal(p.needWorkers, 11);
  assert.equal(p.workers, 12);
  assert.equal(p.writeWorkersKey, true);
  assert.ok(Math.ceil(100_000 / p.clients) <= 16_000);
  assert.ok(Math.ceil(100_000 / p.backends) <= 16_000);
  // The node reaches every backend from 127.0.0.1: more than 14,116 tunnels to one backend fill the even ports connect() tries first.
  assert.equal(p.backends, 8);
  assert.ok(Math.ceil(100_000 / p.backends) <= 12_500);
  assert.ok(p.clients * p.addressesPerClient <= 250);
  assert.ok(Math.ceil(100_000 / p.clients / p.addressesPerClient) <= 5000);
  assert.throws(() => plan({ connections: 100_000, workers: 10 }, true), /at least 11/);
  assert.throws(() => plan({ connections: 100_000, clients: 2 }, true), /at most 16000/);
});
