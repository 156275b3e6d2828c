/**
 * `npm run bench -w gateway`: the gateway's HTTP download and multipart upload beside direct
 * TFTCP on 127.0.0.1 (as ratios), the gateway's peak RSS, 100 concurrent WebSocket sessions,
 * and nginx serving the same file as an outside reference. One run; temp files removed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GATEWAY_BIN, Scope, TOR_SERVER_BIN, sha256File, spawnGateway, spawnTorServer } from 'test-support';
import { interleaved, log, memoryRow, printTable, ratioRow, tftcpDownload, tftcpUpload, writeRandomFile, zeroRow, type Row } from 'test-support/bench';
import { NGINX, startNginx } from './nginx.js';
import { FOLDER_FILES, fillFolder, rangeLatency } from './range-latency.js';
import { httpDownload, multipartUpload, wsCrowd } from './transfers.js';

const SIZE = Number(process.env.BENCH_SIZE ?? 1024 ** 3);
/**
 * The tor-server's folder lives here. tmpfs by default: on this VM the disk's write speed
 * swings by 3x between consecutive 1 GiB uploads, which would decide the upload ratio
 * instead of the gateway. Set BENCH_DIR to a disk folder to include the disk (and fsync).
 */
const BENCH_DIR = process.env.BENCH_DIR ?? (existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir());
const DOWNLOAD_ROUNDS = 3;
const UPLOAD_ROUNDS = 3;
const SESSIONS = 100;
const RSS_LIMIT_MB = 200;
// As scripts/start.mjs runs the gateway (see the note in src/main.ts).
const GATEWAY_NODE_FLAGS = ['--initial-heap-size=64'];
const rows: Row[] = [];

async function main(): Promise<void> {
  if (!existsSync(GATEWAY_BIN) || !existsSync(TOR_SERVER_BIN)) throw new Error('build first: npm run build -w tor-server && npm run build -w gateway');
  const work = await fs.mkdtemp(path.join(BENCH_DIR, 'gateway-bench-'));
  // Owns every process the run starts.
  const scope = new Scope();
  try {
    const serverDir = path.join(work, 'server');
    await fs.mkdir(serverDir);
    const source = path.join(serverDir, 'big.bin');
    log(`writing a ${(SIZE / 1024 ** 2).toFixed(0)} MiB test file`);
    await writeRandomFile(source, SIZE);
    const sourceHash = await sha256File(source);

    const tor = await spawnTorServer(scope, { dir: serverDir, args: ['--log-level', 'warn'] });
    const webDir = path.join(work, 'web');
    await fs.mkdir(webDir);
    await fs.writeFile(path.join(webDir, 'index.html'), '<!doctype html><title>bench</title>');
    const gateway = await spawnGateway(scope, {
      torPort: tor.port,
      webDir,
      // Every bench session comes from 127.0.0.1: lift the per-address session cap for them.
      args: ['--max-upload-size', String(SIZE * 2), '--max-ws-per-address', String(SESSIONS)],
      nodeFlags: GATEWAY_NODE_FLAGS,
    });
    const base = gateway.url;

    log('downloads: direct TFTCP and through the gateway, rounds interleaved');
    const [directDown, gatewayDown] = await interleaved(DOWNLOAD_ROUNDS, [() => tftcpDownload(tor.port, 'big.bin', SIZE), () => httpDownload(`${base}/api/files/big.bin`, SIZE)]);
    rows.push({ name: 'direct TFTCP download', value: `${directDown.toFixed(0)} MB/s` });
    rows.push(ratioRow('gateway HTTP download', gatewayDown, directDown, 0.7));

    log(`uploads (stored in ${BENCH_DIR}): direct TFTCP and multipart with a size hint through the gateway, interleaved`);
    const [directUp, gatewayUp] = await interleaved(UPLOAD_ROUNDS, [
      () => uploadRound(serverDir, (name) => tftcpUpload(tor.port, source, SIZE, name)),
      () => uploadRound(serverDir, (name) => multipartUpload(base, source, SIZE, name), sourceHash),
    ]);
    rows.push({ name: 'direct TFTCP upload', value: `${directUp.toFixed(0)} MB/s` });
    rows.push(ratioRow('gateway multipart upload (size hint)', gatewayUp, directUp, 0.6));
    log(`${SESSIONS} concurrent WebSocket sessions, show + search each`);
    const crowd = await wsCrowd(base, SESSIONS);
    rows.push(zeroRow(`${SESSIONS} WebSocket sessions × (show + search)`, crowd.errors, crowd.ms));

    log(`64 KiB ranges mid-file, with ${FOLDER_FILES} files in the folder, one request at a time`);
    await fillFolder(serverDir);
    const latency = await rangeLatency(`${base}/api/files/big.bin`, SIZE);
    rows.push({ name: `GET 64 KiB range, ${FOLDER_FILES} files (median / p99)`, value: `${latency.median.toFixed(2)} / ${latency.p99.toFixed(2)} ms` });

    rows.push(memoryRow('gateway peak RSS (VmHWM, whole run)', await gateway.peakRss(), RSS_LIMIT_MB));

    if (existsSync(NGINX)) {
      log('nginx serving the same file');
      const nginx = await startNginx(scope, work, serverDir);
      const [nginxDown, relayDown] = await interleaved(DOWNLOAD_ROUNDS, [
        () => httpDownload(`http://127.0.0.1:${nginx.filePort}/big.bin`, SIZE),
        () => httpDownload(`http://127.0.0.1:${nginx.relayPort}/big.bin`, SIZE),
      ]);
      rows.push({ name: 'nginx serving the file (reference)', value: `${nginxDown.toFixed(0)} MB/s`, ratio: (nginxDown / directDown).toFixed(2) });
      // A relay in C with the gateway's process layout (server → relay → client): what the
      // third process costs on this machine, whatever language it is written in.
      rows.push({ name: 'nginx relaying it (proxy_pass, reference)', value: `${relayDown.toFixed(0)} MB/s`, ratio: (relayDown / directDown).toFixed(2) });
    } else {
      rows.push({ name: 'nginx HTTP download (reference)', value: 'nginx not installed' });
    }
  } finally {
    await scope.close();
    await fs.rm(work, { recursive: true, force: true });
  }
  printTable(
    `gateway benchmark: ${(SIZE / 1024 ** 3).toFixed(2)} GiB file on 127.0.0.1, ${os.cpus().length} cores, Node ${process.version}, tor-server folder in ${BENCH_DIR}`,
    rows,
    `ratios: against direct TFTCP (download for nginx); best of ${DOWNLOAD_ROUNDS} download and ${UPLOAD_ROUNDS} upload rounds, interleaved`,
  );
}

let uploads = 0;

/** One upload round into a fresh name; checks the stored bytes when given a hash, then deletes the file. */
async function uploadRound(serverDir: string, upload: (name: string) => Promise<number>, expectedHash?: string): Promise<number> {
  const name = `up-${uploads++}.bin`;
  // No dirty pages left from earlier rounds, so their write-back is not billed to this one.
  execFileSync('sync');
  const rate = await upload(name);
  const stored = path.join(serverDir, name);
  if (expectedHash && (await sha256File(stored)) !== expectedHash) throw new Error(`${name} differs from the source`);
  await fs.rm(stored);
  return rate;
}

main().catch((error: Error) => {
  process.stderr.write(`bench failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
