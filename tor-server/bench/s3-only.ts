/**
 * `npm run bench:s3 -w tor-server`: only the S3 rows of the tor-server's bench (see s3-bench.ts),
 * for tuning the S3 store without the rest of the run. Needs an engine (S3_ENDPOINT).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Scope } from 'test-support';
import { busyStartWarning, log, printTable, writeRandomFile } from 'test-support/bench';
import { benchDir } from './bench-dir.js';
import { s3Rows } from './s3-bench.js';

const SIZE = Number(process.env.BENCH_SIZE ?? 1024 ** 3);
const RSS_LIMIT_MB = 150;

async function main(): Promise<void> {
  const cores = os.cpus().length;
  const loadAtStart = os.loadavg()[0]!;
  const scope = new Scope();
  try {
    const work = await benchDir(scope);
    const source = path.join(work, 'source.bin');
    log(`writing a ${(SIZE / 1024 ** 2).toFixed(0)} MiB test file`);
    await writeRandomFile(source, SIZE);
    const rows = await s3Rows(source, SIZE, await fs.mkdtemp(path.join(work, 's3-work-')), scope, RSS_LIMIT_MB);
    printTable(
      `tor-server on the S3 store (${(SIZE / 1024 ** 2).toFixed(0)} MiB file, ${cores} cores, load average ${loadAtStart.toFixed(2)} at the start, ${os.loadavg()[0]!.toFixed(2)} at the end)`,
      rows,
      'ratios: against the SDK transfer of the same object in the same run',
    );
    // An engine on this machine frees what the last run deleted about a minute later (radosgw's garbage collection), on the same cores.
    const busy = busyStartWarning(loadAtStart, cores, ' (an S3 engine here may still be collecting what an earlier run deleted)');
    if (busy) process.stdout.write(`${busy}\n`);
  } finally {
    await scope.close();
  }
}

await main();
