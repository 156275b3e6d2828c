/**
 * `node --import tsx bench/range-latency.ts`: the latency of 64 KiB ranges mid-file through the
 * gateway, alone, against the built tor-server and gateway (dist/), so the same figure can be
 * taken on another checkout. `npm run bench:table` measures the same row beside the others.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { GATEWAY_BIN, Scope, TOR_SERVER_BIN, scratchDir, spawnGateway, spawnTorServer } from 'test-support';
import { FOLDER_FILES, fillFolder, rangeLatency } from 'test-support/bench';

async function main(): Promise<void> {
  if (!existsSync(TOR_SERVER_BIN) || !existsSync(GATEWAY_BIN)) throw new Error('build first: npm run build -w tor-server && npm run build -w gateway');
  const size = Number(process.env.BENCH_SIZE ?? 1024 ** 3);
  const scope = new Scope();
  try {
    const work = await scratchDir(scope, 'range-bench-');
    const dir = path.join(work, 'files');
    await fs.mkdir(dir);
    // Sparse: the bytes are read from the page cache either way; what is measured is the path to them.
    await fs.writeFile(path.join(dir, 'big.bin'), '');
    await fs.truncate(path.join(dir, 'big.bin'), size);
    await fillFolder(dir);
    const tor = await spawnTorServer(scope, { dir, args: ['--log-level', 'warn'] });
    const gateway = await spawnGateway(scope, { torPort: tor.port });
    const { median, p99 } = await rangeLatency(`${gateway.url}/api/files/big.bin`, size);
    process.stdout.write(`GET of a 64 KiB range mid-file (${(size / 1024 ** 3).toFixed(2)} GiB file, ${FOLDER_FILES} files in the folder), one at a time: median ${median.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms\n`);
  } finally {
    await scope.close();
  }
}

await main();
