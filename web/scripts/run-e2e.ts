/**
 * Runs the browser tests, or says loudly why not: with no Chromium they are skipped (one line),
 * unless REQUIRE_BROWSER=1 (CI), where a missing browser fails the run.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromiumAvailable, CHROMIUM_PATH } from '../test/e2e/browser.js';

const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../test/e2e');

if (!chromiumAvailable()) {
  const why = `no Chromium at ${CHROMIUM_PATH}; install Debian's chromium or set CHROMIUM_PATH`;
  if (process.env.REQUIRE_BROWSER === '1') {
    console.error(`FAILED: browser tests are required (REQUIRE_BROWSER=1) but cannot run (${why})`);
    process.exit(1);
  }
  console.log(`SKIPPED: browser tests (${why})`);
  process.exit(0);
}

const files = readdirSync(E2E_DIR)
  .filter((name) => name.endsWith('.test.ts'))
  .sort()
  .map((name) => path.join(E2E_DIR, name));
// One file at a time: each starts its own servers and Chromium, and the machine has two cores.
const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
