/**
 * The system's Chromium, headless, with a fresh profile for one test: closed
 * and its profile removed at the test's end, in that order (Chromium writes
 * into its profile until it has exited).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The `skip` option of a test that needs Chromium. */
export const needsChromium = existsSync(CHROMIUM) ? false : 'chromium is not installed (deploy/local/setup.sh test installs it)';

/** Opens a page of a fresh headless Chromium that `t` closes when it ends. */
export async function openPage(t: TestContext, viewport: { width: number; height: number }): Promise<Page> {
  const profile = mkdtempSync(join(tmpdir(), 'wsha-chromium-'));
  let launching: ReturnType<typeof chromium.launchPersistentContext> | null = null;
  t.after(async () => {
    // A test may end (fail) while Chromium is still starting: wait for the launch, then close it.
    const ctx = await launching?.catch(() => null);
    await ctx?.close();
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });
  // launchPersistentContext passes the fresh profile as --user-data-dir.
  launching = chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport });
  const ctx = await launching;
  return ctx.pages()[0] ?? await ctx.newPage();
}
