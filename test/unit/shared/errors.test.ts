/**
 * Keeps the error list honest (like fastify's errors test against its docs):
 * every class in ERROR_CLASSES has a code equal to WSHA_ERR_ plus its name in
 * upper snake case, is a WshaError, and is a row of README's error table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CLASSES, WshaError } from '../../../shared/errors';

const root = join(__dirname, '..', '..', '..', '..');

/** NoRouteError -> WSHA_ERR_NO_ROUTE */
function expectedCode(className: string): string {
  return 'WSHA_ERR_' + className.replace(/Error$/, '').replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function instantiate(Cls: unknown): WshaError {
  // Every constructor accepts its first argument alone; that is enough to read the code.
  return new (Cls as new (...a: unknown[]) => WshaError)('x');
}

function errorsSection(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const m = readme.match(/<!-- section:errors -->([\s\S]*?)<!-- \/section:errors -->/);
  assert.ok(m, 'README has an errors section');
  return m[1];
}

test('each error class code matches its name', () => {
  for (const [name, Cls] of Object.entries(ERROR_CLASSES)) {
    const e = instantiate(Cls);
    assert.ok(e instanceof WshaError, `${name} extends WshaError`);
    assert.equal(e.name, name);
    assert.equal(e.code, expectedCode(name), `${name} has code ${expectedCode(name)}`);
  }
});

test('codes are unique', () => {
  const codes = Object.values(ERROR_CLASSES).map((C) => instantiate(C).code);
  assert.equal(new Set(codes).size, codes.length);
});

test('every code is a row of the README error table, with its HTTP status', () => {
  const section = errorsSection();
  for (const [name, Cls] of Object.entries(ERROR_CLASSES)) {
    const e = instantiate(Cls);
    const row = section.split('\n').find((l) => l.startsWith(`| \`${e.code}\``));
    assert.ok(row, `README errors table lacks ${e.code} (${name})`);
    const cells = row.split('|').map((c) => c.trim());
    assert.equal(cells[2], `\`${name}\``, `${e.code} row names its class`);
    if (e.httpStatus !== undefined && name !== 'LimitError' && name !== 'BackendError') assert.equal(cells[3], String(e.httpStatus), `${e.code} row shows HTTP ${e.httpStatus}`);
  }
});

test('the README table documents no code that does not exist', () => {
  const known = new Set(Object.values(ERROR_CLASSES).map((C) => instantiate(C).code));
  for (const m of errorsSection().matchAll(/^\| `(WSHA_ERR_[A-Z_]+)`/gm)) assert.ok(known.has(m[1]), `${m[1]} is documented but not defined`);
});
