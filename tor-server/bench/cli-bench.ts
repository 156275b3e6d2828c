/**
 * `npm run bench:client`: only the tor-client download row (and the raw reader beside it), for
 * working on the CLI's speed without the whole bench. BENCH_SIZE and BENCH_ROUNDS size it.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Scope, spawnTorServer } from 'test-support';
import { log, printTable, writeRandomFile } from 'test-support/bench';
import { benchDir } from './bench-dir.js';
import { cliDownloadRows } from './cli-download.js';

const SIZE = Number(process.env.BENCH_SIZE ?? 1024 ** 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const scope = new Scope();
try {
  const work = await benchDir(scope);
  const serverDir = path.join(work, 'server');
  const home = path.join(work, 'home');
  await fs.mkdir(serverDir);
  log(`writing a ${(SIZE / 1024 ** 2).toFixed(0)} MiB test file in ${work}`);
  await writeRandomFile(path.join(serverDir, 'big.bin'), SIZE);
  const server = await spawnTorServer(scope, { dir: serverDir, args: ['--log-level', 'warn'] });
  const rows = await cliDownloadRows(server.port, 'big.bin', SIZE, home, ROUNDS);
  const [load] = os.loadavg();
  // Neighbours' load slows user-space copying more than anything else: such a run says little.
  if (load! > os.cpus().length / 2) log(`WARNING: load average ${load!.toFixed(2)} on ${os.cpus().length} cores; the figures are disturbed, run again when the machine is quiet`);
  printTable(`tor-client bench (${(SIZE / 1024 ** 2).toFixed(0)} MiB file, 127.0.0.1, ${os.cpus().length} cores, load ${load!.toFixed(2)})`, rows, `best of ${ROUNDS} interleaved rounds; spread min–max; ratio against the raw reader`);
} finally {
  await scope.close();
}
