/**
 * Files of the live page (cluster/admin/page/, copied into dist at build).
 * Only the files named here are served, read once and kept in memory: no
 * path from a request ever reaches the file system.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** URL path -> file name and content type. */
const FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/timeline.js': { file: 'timeline.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

/** The page folder next to this module, in dist or in the source tree. */
export function pageDir(): string {
  const here = join(__dirname, 'page');
  return existsSync(join(here, 'index.html')) ? here : join(__dirname, '..', '..', '..', 'cluster', 'admin', 'page');
}

/** One page file held in memory. */
export interface PageFile { body: Buffer; type: string }

/** Loads the page files once; a missing file is served as a 404 later. */
export function loadPage(dir = pageDir()): Map<string, PageFile> {
  const out = new Map<string, PageFile>();
  for (const [path, { file, type }] of Object.entries(FILES)) {
    const full = join(dir, file);
    if (existsSync(full)) out.set(path, { body: readFileSync(full), type });
  }
  return out;
}
