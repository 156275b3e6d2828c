/**
 * `npm run bench:tus -w gateway`: issue 13's upload figures. A BENCH_SIZE (default 1 GiB) tus
 * upload through the gateway whose link is cut every 100 MiB, resumed by tus-js-client's
 * retries, must store identical bytes with under 5% of them sent twice (once as one PATCH,
 * once in 8 MiB chunks each with its sha256); what the per-chunk sha256 costs, as a ratio; and
 * `tor-client --parallel 4` against `--parallel 1` on loopback. One run; temp files removed.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DefaultHttpStack, Upload, type HttpRequest, type HttpResponse, type HttpStack } from 'tus-js-client';
import { CutRelay, GATEWAY_BIN, Scope, TOR_SERVER_BIN, sha256File, spawnGateway, spawnTorServer } from 'test-support';
import { cliUpload, log, mbps, printTable, writeRandomFile, type Row } from 'test-support/bench';
import { ApiPath, TUS_CHUNK_BYTES, TusHeader } from '../src/api/index.js';

const MiB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_SIZE ?? 1024 * MiB);
const CUT_EVERY = 100 * MiB;
/** The bound on bytes sent twice across the cuts. */
const MAX_RESENT = 0.05;
const RETRY_DELAYS_MS = [0, 100, 200, 500, 1000, 1000, 1000];

/** tus-js-client's Node stack, adding `Upload-Checksum: sha256` to every request with bytes (as the web app's stack does). */
class ChecksumStack implements HttpStack {
  readonly #inner = new DefaultHttpStack({});
  createRequest(method: string, url: string): HttpRequest {
    const request = this.#inner.createRequest(method, url);
    const send = request.send.bind(request);
    request.send = (body: unknown): Promise<HttpResponse> => {
      if (Buffer.isBuffer(body)) request.setHeader(TusHeader.uploadChecksum, `sha256 ${createHash('sha256').update(body).digest('base64')}`);
      return send(body);
    };
    return request;
  }
  getName(): string {
    return 'checksum(node)';
  }
}

interface TusRun {
  endpoint: string;
  data: Buffer;
  name: string;
  /** Undefined: one PATCH for the whole file. */
  chunkSize?: number;
  checksums: boolean;
}

/** One tus-js-client upload to its end (retrying through cuts); milliseconds. */
async function tusUpload(run: TusRun): Promise<number> {
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const upload = new Upload(run.data, {
      endpoint: run.endpoint,
      metadata: { filename: run.name },
      retryDelays: RETRY_DELAYS_MS,
      ...(run.chunkSize !== undefined && { chunkSize: run.chunkSize }),
      ...(run.checksums && { httpStack: new ChecksumStack() }),
      onSuccess: () => resolve(),
      onError: reject,
    });
    upload.start();
  });
  return performance.now() - started;
}

/** Checks the stored file against the source, then removes it. */
async function checkStored(dir: string, name: string, expected: string): Promise<void> {
  const stored = path.join(dir, name);
  const hash = await sha256File(stored);
  await fs.rm(stored);
  if (hash !== expected) throw new Error(`${name} differs from the source (sha256 ${hash})`);
}

function resentRow(name: string, relay: CutRelay, ms: number): Row {
  const resent = (relay.bytesUp - SIZE) / SIZE;
  return {
    name: `${name}: ${relay.cuts} cuts, identical bytes`,
    value: `${(resent * 100).toFixed(2)}% resent`,
    ratio: `${mbps(SIZE, ms).toFixed(0)} MB/s`,
    target: `< ${MAX_RESENT * 100}% resent`,
    verdict: resent < MAX_RESENT ? 'ok' : 'MISS',
  };
}

async function main(): Promise<void> {
  if (!existsSync(GATEWAY_BIN) || !existsSync(TOR_SERVER_BIN)) throw new Error('build first: npm run build -w tor-server && npm run build -w gateway');
  const base = existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  const work = await fs.mkdtemp(path.join(base, 'tus-bench-'));
  const scope = new Scope();
  const rows: Row[] = [];
  try {
    const serverDir = path.join(work, 'server');
    const home = path.join(work, 'home');
    const webDir = path.join(work, 'web');
    await Promise.all([fs.mkdir(serverDir), fs.mkdir(home), fs.mkdir(webDir)]);
    const source = path.join(work, 'source.bin');
    log(`writing a ${SIZE / MiB} MiB source file in ${work}`);
    await writeRandomFile(source, SIZE);
    const data = await fs.readFile(source);
    const sourceHash = await sha256File(source);
    const tor = await spawnTorServer(scope, { dir: serverDir, args: ['--log-level', 'warn'] });
    const gateway = await spawnGateway(scope, { torPort: tor.port, webDir });
    const endpointOf = (port: number) => `http://127.0.0.1:${port}${ApiPath.uploads}`;

    for (const [label, chunkSize, checksums] of [
      ['tus, one PATCH, link cut every 100 MiB', undefined, false],
      ['tus, 8 MiB chunks + sha256 each, link cut every 100 MiB', TUS_CHUNK_BYTES, true],
    ] as const) {
      log(label);
      const relay = await CutRelay.start(scope, gateway.port, CUT_EVERY);
      const ms = await tusUpload({ endpoint: endpointOf(relay.port), data, name: `cut-${rows.length}.bin`, chunkSize, checksums });
      await checkStored(serverDir, `cut-${rows.length}.bin`, sourceHash);
      rows.push(resentRow(label, relay, ms));
      await relay.close();
    }

    log('tus 8 MiB chunks without and with sha256, no cuts');
    const plain = await tusUpload({ endpoint: endpointOf(gateway.port), data, name: 'plain.bin', chunkSize: TUS_CHUNK_BYTES, checksums: false });
    await checkStored(serverDir, 'plain.bin', sourceHash);
    const summed = await tusUpload({ endpoint: endpointOf(gateway.port), data, name: 'summed.bin', chunkSize: TUS_CHUNK_BYTES, checksums: true });
    await checkStored(serverDir, 'summed.bin', sourceHash);
    rows.push({ name: 'tus 8 MiB chunks, no checksum', value: `${mbps(SIZE, plain).toFixed(0)} MB/s` });
    rows.push({ name: 'tus 8 MiB chunks, sha256 each (checked by the gateway)', value: `${mbps(SIZE, summed).toFixed(0)} MB/s`, ratio: (plain / summed).toFixed(2) });

    log('tor-client upload --parallel 1 and 4');
    const one = await cliUpload(tor.port, source, SIZE, 'cli-1.bin', home, 1);
    await checkStored(serverDir, 'cli-1.bin', sourceHash);
    const four = await cliUpload(tor.port, source, SIZE, 'cli-4.bin', home, 4);
    await checkStored(serverDir, 'cli-4.bin', sourceHash);
    rows.push({ name: 'tor-client upload --parallel 1', value: `${one.mbps.toFixed(0)} MB/s` });
    rows.push({ name: 'tor-client upload --parallel 4', value: `${four.mbps.toFixed(0)} MB/s`, ratio: (four.mbps / one.mbps).toFixed(2) });
  } finally {
    await scope.close();
    await fs.rm(work, { recursive: true, force: true });
  }
  const [load] = os.loadavg();
  printTable(
    `tus bench: ${SIZE / MiB} MiB, 127.0.0.1, ${os.cpus().length} cores, load ${load!.toFixed(2)}, Node ${process.version}`,
    rows,
    'resent: bytes the client sent beyond the file size, over the file size; the ratio column of the cut rows is the throughput with the cuts; of the sha256 row, its speed against no checksum; of --parallel 4, its speed against --parallel 1',
  );
}

main().catch((error: Error) => {
  process.stderr.write(`bench failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
