import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Scope } from 'test-support';
import { printTable, writeRandomFile } from 'test-support/bench';
import { s3Rows } from './s3-bench.js';
const scope = new Scope();
const size = Number(process.env.BENCH_SIZE ?? 256 * 1024 ** 2);
const work = await fs.mkdtemp(path.join(os.tmpdir(), 'wt-d-s3b-'));
scope.after(() => fs.rm(work, { recursive: true, force: true }));
await writeRandomFile(path.join(work, 'src.bin'), size);
try { printTable('s3', await s3Rows(path.join(work, 'src.bin'), size, path.join(work, 'w'), scope, 150), ''); } finally { await scope.close(); }
