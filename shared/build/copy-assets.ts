/**
 * Build step after tsc: copies the non-TypeScript files that the compiled
 * code reads at run time (Lua scripts, the admin page) into dist/.
 */
import { cpSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..', '..', '..');
const ASSET_DIRS = ['shared/redis/scripts', 'cluster/admin/page'];

for (const dir of ASSET_DIRS) {
  const from = join(root, dir);
  if (!existsSync(from)) continue;
  cpSync(from, join(root, 'dist', dir), { recursive: true, filter: (src) => !src.endsWith('.ts') });
}
