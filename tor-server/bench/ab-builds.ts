/**
 * `npm run bench:ab -w tor-server`: the receive paths of two builds side by side, in interleaved
 * rounds on one machine: tor-client download against a raw socket reader, and TFTCP upload
 * (with the server's CPU time) against a raw TCP baseline. BENCH_OLD_DIST is the other build's
 * dist folder, copied somewhere under the repository's node_modules so its imports resolve
 * (e.g. `cp -r tor-server/dist node_modules/.old-dist` before the change). BENCH_SIZE and
 * BENCH_ROUNDS size it.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Scope, TOR_CLIENT_BIN, TOR_SERVER_BIN, spawnTorServer } from 'test-support';
import { log, tftcpUpload, writeRandomFile } from 'test-support/bench';
import { benchDir } from './bench-dir.js';
import { cliDownload, rawSocketDownload } from './cli-download.js';
import { rawBaseline } from './raw-baseline.js';

const SIZE = Number(process.env.BENCH_SIZE ?? 512 * 1024 ** 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const OLD_DIST = process.env.BENCH_OLD_DIST;
/** Clock ticks per second of /proc/<pid>/stat's CPU times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

interface Build {
  label: string;
  serverBin: string;
  clientBin: string;
}

/** user + system CPU seconds a process has used so far. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command's closing parenthesis; utime and stime are the 12th and 13th of them.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

if (!OLD_DIST) throw new Error('set BENCH_OLD_DIST to the dist folder of the build to compare with');
const builds: Build[] = [
  { label: 'old', serverBin: path.join(OLD_DIST, 'bin/tor-server.js'), clientBin: path.join(OLD_DIST, 'bin/tor-client.js') },
  { label: 'new', serverBin: TOR_SERVER_BIN, clientBin: TOR_CLIENT_BIN },
];
const scope = new Scope();
try {
  const work = await benchDir(scope);
  const source = path.join(work, 'source.bin');
  log(`writing a ${(SIZE / 1024 ** 2).toFixed(0)} MiB test file in ${work}; ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(2)}`);
  await writeRandomFile(source, SIZE);
  const servers = [];
  for (const build of builds) {
    const dir = path.join(work, build.label);
    await fs.mkdir(dir);
    await fs.link(source, path.join(dir, 'big.bin'));
    servers.push(await spawnTorServer(scope, { dir, bin: build.serverBin, args: ['--log-level', 'warn', '--open-access', 'write'] }));
  }
  for (let round = 1; round <= ROUNDS; round++) {
    const line: string[] = [];
    for (const [i, build] of builds.entries()) {
      const { port, child } = servers[i]!;
      const pid = child.pid!;
      const raw = await rawSocketDownload(port, 'big.bin', SIZE);
      const cli = await cliDownload(port, 'big.bin', SIZE, path.join(work, `home-${build.label}`), [], build.clientBin);
      await fs.rm(path.join(work, build.label, 'up.bin'), { force: true });
      const baseline = await rawBaseline(source, SIZE, scope);
      const cpuBefore = await cpuSeconds(pid);
      const upload = await tftcpUpload(port, source, SIZE, 'up.bin');
      const serverCpu = (await cpuSeconds(pid)) - cpuBefore;
      line.push(
        `${build.label}: client ${cli.mbps.toFixed(0)}/${raw.toFixed(0)} = ${(cli.mbps / raw).toFixed(2)} (rss ${(cli.peakRss / 1024 ** 2).toFixed(0)} MB), ` +
          `upload ${upload.toFixed(0)}/${baseline.toFixed(0)} = ${(upload / baseline).toFixed(2)} (server cpu ${serverCpu.toFixed(2)} s)`,
      );
    }
    log(`round ${round}: ${line.join(' | ')}`);
  }
  for (const [i, build] of builds.entries()) log(`${build.label} server peak RSS ${((await servers[i]!.peakRss()) / 1024 ** 2).toFixed(0)} MB`);
} finally {
  await scope.close();
}
