/**
 * A/B of two gateway builds on the same tor-server, rounds interleaved (A, B, A, B, ...), for
 * every HTTP transfer path: GET of a large file, raw PUT, browser-shaped multipart POST (with
 * the `size` field), 16 clients fetching a 4 KiB file, and a 64 KiB range mid-file. Beside
 * each speed it prints the CPU time the gateway and the tor-server spent (user + system, from
 * /proc), per GiB or per request: on a shared 2-core machine speeds swing with the
 * neighbours' load, CPU time per unit of work much less.
 *
 *   npm run build -w gateway && cp -r gateway/dist /tmp/gw-before   # on the old commit
 *   node --import tsx bench/ab.ts /tmp/gw-before                    # in gateway/, on the new one
 *
 * B is gateway/dist of this checkout; A the build whose dist folder is the first argument
 * (it must resolve its packages: copy it inside this checkout, e.g. gateway/dist-old).
 * When Debian's nginx is installed, it serves the same files in the GET and small-file rounds,
 * as the reference the targets are set against. BENCH_SIZE (bytes, default 1 GiB) and
 * BENCH_ROUNDS (default 3) adjust the run.
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { GATEWAY_BIN, Scope, TOR_SERVER_BIN, parseListening, spawnNode, spawnTorServer, type NodeProcess } from 'test-support';
import { log, writeRandomFile } from 'test-support/bench';
import { cpuMs } from './cpu.js';
import { SMALL_FILE_CLIENTS, smallFiles } from './small-files.js';
import { FOLDER_FILES, fillFolder, rangeLatency } from './range-latency.js';
import { NGINX, startNginx } from './nginx.js';
import { httpDownload, httpPut, multipartUpload } from './transfers.js';

const SIZE = Number(process.env.BENCH_SIZE ?? 1024 ** 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SMALL_SIZE = 4096;
const SMALL_REQUESTS = 8000;
const RANGE_REQUESTS = 500;
const BENCH_DIR = existsSync('/dev/shm') ? '/dev/shm' : undefined;

interface Build {
  label: string;
  gateway: NodeProcess;
  url: string;
}

/** One figure of one round, and what it cost each process. */
interface Sample {
  value: string;
  gatewayCpu: number;
  torCpu: number;
}

async function main(): Promise<void> {
  const oldDist = process.argv[2];
  if (!oldDist || !existsSync(path.join(oldDist, 'main.js'))) throw new Error('usage: ab.ts <dist folder of the other gateway build>');
  if (!existsSync(GATEWAY_BIN) || !existsSync(TOR_SERVER_BIN)) throw new Error('build first: npm run build -w tor-server && npm run build -w gateway');
  const scope = new Scope();
  const work = await fs.mkdtemp(path.join(BENCH_DIR ?? '/tmp', 'gateway-ab-'));
  try {
    const dir = path.join(work, 'files');
    await fs.mkdir(dir);
    const big = path.join(dir, 'big.bin');
    log(`writing a ${(SIZE / 1024 ** 2).toFixed(0)} MiB file`);
    await writeRandomFile(big, SIZE);
    await writeRandomFile(path.join(dir, 'small.bin'), SMALL_SIZE);
    // Two gateways from one address: lift the per-address cap so neither is refused for the other's idle connections.
    const tor = await spawnTorServer(scope, { dir, args: ['--log-level', 'warn', '--max-clients-per-address', '200'] });
    const builds = [await startGateway(scope, 'A (argument)', path.join(oldDist, 'main.js'), tor.port, work), await startGateway(scope, 'B (this build)', GATEWAY_BIN, tor.port, work)];
    const torPid = tor.child.pid!;
    const nginx = existsSync(NGINX) ? await startNginx(scope, work, dir) : undefined;
    if (!nginx) log('SKIPPED: nginx reference (not installed)');
    let uploads = 0;
    const measures: [string, (build: Build) => Promise<Sample>][] = [
      ['GET 1 file', (b) => perGiB(b, torPid, () => httpDownload(`${b.url}/api/files/big.bin`, SIZE))],
      [
        'PUT (raw body)',
        (b) =>
          perGiB(b, torPid, async () => {
            const name = `up-${uploads++}.bin`;
            const rate = await httpPut(`${b.url}/api/files/${name}`, big, SIZE);
            await fs.rm(path.join(dir, name));
            return rate;
          }),
      ],
      [
        'multipart POST (size field)',
        (b) =>
          perGiB(b, torPid, async () => {
            const name = `up-${uploads++}.bin`;
            const rate = await multipartUpload(b.url, big, SIZE, name);
            await fs.rm(path.join(dir, name));
            return rate;
          }),
      ],
      [
        `${SMALL_FILE_CLIENTS} clients × 4 KiB file`,
        async (b) => {
          const cost = await cpuCost(b, torPid, () => smallFiles(`${b.url}/api/files/small.bin`, SMALL_SIZE, SMALL_FILE_CLIENTS, SMALL_REQUESTS));
          const { rps, p50, p99 } = cost.result;
          return { value: `${rps.toFixed(0)} rps, p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`, gatewayCpu: cost.gateway / SMALL_REQUESTS, torCpu: cost.tor / SMALL_REQUESTS };
        },
      ],
      [
        `64 KiB range mid-file, ${FOLDER_FILES} files in the folder`,
        async (b) => {
          const cost = await cpuCost(b, torPid, () => rangeLatency(`${b.url}/api/files/big.bin`, SIZE, RANGE_REQUESTS));
          return { value: `p50 ${cost.result.median.toFixed(2)} ms, p99 ${cost.result.p99.toFixed(2)} ms`, gatewayCpu: cost.gateway / RANGE_REQUESTS, torCpu: cost.tor / RANGE_REQUESTS };
        },
      ],
    ];
    // nginx's own figure for the measures it can serve, in the same rounds: the reference.
    const reference: Record<string, () => Promise<string>> = nginx
      ? {
          'GET 1 file': async () => `${(await httpDownload(`http://127.0.0.1:${nginx.filePort}/big.bin`, SIZE)).toFixed(0)} MB/s`,
          [`${SMALL_FILE_CLIENTS} clients × 4 KiB file`]: async () => {
            const { rps, p50, p99 } = await smallFiles(`http://127.0.0.1:${nginx.filePort}/small.bin`, SMALL_SIZE, SMALL_FILE_CLIENTS, SMALL_REQUESTS);
            return `${rps.toFixed(0)} rps, p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`;
          },
        }
      : {};
    for (const [name, measure] of measures) {
      const unit = name.includes('×') || name.includes('range') ? 'ms CPU per request' : 'ms CPU per GiB';
      // A video seek in a big folder: the folder holds FOLDER_FILES more files from here on.
      if (name.includes('range')) await fillFolder(dir);
      process.stdout.write(`\n${name} (gateway / tor-server ${unit})\n`);
      for (let round = 1; round <= ROUNDS; round++) {
        for (const build of builds) {
          const sample = await measure(build);
          const digits = unit.includes('request') ? 3 : 0;
          process.stdout.write(`  round ${round} ${build.label.padEnd(15)} ${sample.value.padEnd(44)} ${sample.gatewayCpu.toFixed(digits)} / ${sample.torCpu.toFixed(digits)}\n`);
        }
        const nginxRound = reference[name];
        if (nginxRound) process.stdout.write(`  round ${round} ${'nginx'.padEnd(15)} ${await nginxRound()}\n`);
      }
    }
    for (const build of builds) process.stdout.write(`\n${build.label} peak RSS ${((await build.gateway.peakRss()) / 1024 ** 2).toFixed(0)} MB`);
    process.stdout.write('\n');
  } finally {
    await scope.close();
    await fs.rm(work, { recursive: true, force: true });
  }
}

async function startGateway(scope: Scope, label: string, bin: string, torPort: number, work: string): Promise<Build> {
  const webDir = path.join(work, `web-${label.charAt(0)}`);
  await fs.mkdir(webDir);
  const args = ['--host', '127.0.0.1', '--port', '0', '--tor-host', '127.0.0.1', '--tor-port', String(torPort), '--web-dir', webDir, '--max-upload-size', String(SIZE * 2)];
  const gateway = spawnNode(scope, bin, { args, nodeFlags: ['--initial-heap-size=64'] });
  const url = await gateway.firstLine((line) => {
    const parsed = parseListening(line);
    return parsed?.program === 'tor-gateway' ? parsed.url : undefined;
  }, 'listening');
  return { label, gateway, url };
}

/** Runs `task` and returns its result with the CPU ms the gateway and the tor-server spent meanwhile. */
async function cpuCost<T>(build: Build, torPid: number, task: () => Promise<T>): Promise<{ result: T; gateway: number; tor: number }> {
  const pid = build.gateway.child.pid!;
  const [gateway0, tor0] = await Promise.all([cpuMs(pid), cpuMs(torPid)]);
  const result = await task();
  const [gateway1, tor1] = await Promise.all([cpuMs(pid), cpuMs(torPid)]);
  return { result, gateway: gateway1 - gateway0, tor: tor1 - tor0 };
}

/** A transfer of SIZE bytes: its MB/s, and CPU ms per GiB. */
async function perGiB(build: Build, torPid: number, task: () => Promise<number>): Promise<Sample> {
  const cost = await cpuCost(build, torPid, task);
  const gib = SIZE / 1024 ** 3;
  return { value: `${cost.result.toFixed(0)} MB/s`, gatewayCpu: cost.gateway / gib, torCpu: cost.tor / gib };
}

main().catch((error: Error) => {
  process.stderr.write(`ab failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
