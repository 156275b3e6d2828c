import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Owner } from 'test-support';

/** tmpfs, when the machine has it: the disk's noise stays out of the figures. */
const TMPFS = '/dev/shm';

/** A scratch folder for a bench run on tmpfs when there is one (else the temp folder), removed when `owner` ends. */
export async function benchDir(owner: Owner, prefix = 'tor-bench-'): Promise<string> {
  const dir = await mkdtemp(path.join(existsSync(TMPFS) ? TMPFS : os.tmpdir(), prefix));
  owner.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
