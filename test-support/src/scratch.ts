import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Owner } from './scope.js';

/** A fresh folder under the system temp folder, removed with its contents when `owner` ends. */
export async function scratchDir(owner: Owner, prefix = 'tft-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  owner.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
