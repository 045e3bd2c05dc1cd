/**
 * The text of a Lua script of shared/redis/scripts/, from the build output
 * (the build copies them next to the compiled code) or, after a plain `tsc`,
 * from the source folder. Read once per name.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const cache = new Map<string, string>();

function scriptDir(): string {
  // Compiled code runs from dist/shared/redis; a plain tsc build leaves the scripts in the source tree beside dist/.
  const built = join(__dirname, 'scripts');
  if (existsSync(join(built, 'lease-acquire.lua'))) return built;
  return join(__dirname, '..', '..', '..', 'shared', 'redis', 'scripts');
}

/** The source of `scripts/NAME.lua`. */
export function scriptSource(name: string): string {
  let s = cache.get(name);
  if (s === undefined) {
    s = readFileSync(join(scriptDir(), `${name}.lua`), 'utf8');
    cache.set(name, s);
  }
  return s;
}
