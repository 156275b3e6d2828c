/** The table's rows: each path a user's bytes can take, and the references they are measured against. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { sha256File, type Scope } from 'test-support';
import { ClientProcess, cliDownload, cliUpload, middleRange, rangeLatency, rawBaseline, type ClientJob } from 'test-support/bench';
import { curlGet, curlPut } from './curl.js';
import { keepAliveLoad, type LoadOptions } from './load.js';
import type { BenchPath } from './rounds.js';
import { BIG_FILE, SMALL_FILE, type Stack } from './stack.js';

export const NGINX_GET = 'nginx GET (curl to /dev/null)';
export const NGINX_PUT = 'nginx PUT (curl -T, dav)';
export const NGINX_SMALL = 'nginx: 16 clients × 4 KiB GET (keep-alive)';
export const RAW_BASELINE = 'raw Node baseline (file piped into a socket)';
/** The small-files load: 16 clients, counted for 5 s after a 1 s warm-up. */
export const SMALL_LOAD: LoadOptions = { connections: 16, warmupMs: 1000, durationMs: 5000 };

/** Every path in table order; without nginx, the raw Node baseline is the one reference. */
export function benchPaths(stack: Stack, scope: Scope): BenchPath[] {
  const { size, source, tor, gateway, nginx } = stack;
  const serverWatch = { program: 'tor-server' as const, pid: tor.child.pid! };
  const gatewayWatch = [serverWatch, { program: 'gateway' as const, pid: gateway.child.pid! }];
  const getReference = nginx ? NGINX_GET : RAW_BASELINE;
  const putReference = nginx ? NGINX_PUT : RAW_BASELINE;
  const uploads = new Uploads(stack);
  const bigUrl = `${gateway.url}/api/files/${BIG_FILE}`;
  const paths: BenchPath[] = [];
  // The Node clients each in a process of their own, as a program using them would run (see ClientProcess).
  let client: Promise<ClientProcess> | undefined;
  const inClient = async (job: ClientJob) => (await (client ??= ClientProcess.start(scope))).run(job);

  if (nginx) paths.push({ name: NGINX_GET, unit: 'MB/s', reference: true, watched: [], measure: async () => ({ value: await curlGet(`http://127.0.0.1:${nginx.filePort}/${BIG_FILE}`, size) }) });
  else paths.push({ name: RAW_BASELINE, unit: 'MB/s', reference: true, watched: [], measure: async () => ({ value: await rawBaseline(source, size, scope) }) });
  paths.push(
    { name: 'TFTCP download, raw socket reader', unit: 'MB/s', against: { reference: getReference, target: 0.95 }, watched: [serverWatch], measure: async () => ({ value: await inClient({ op: 'raw-download', port: tor.port, name: BIG_FILE, size }) }) },
    {
      name: 'tor-client download (into a tmpfs home)',
      unit: 'MB/s',
      against: { reference: getReference, target: 0.8 },
      watched: [serverWatch],
      measure: async () => {
        const { mbps, peakRss } = await cliDownload(tor.port, BIG_FILE, size, stack.home, [], stack.sourceHash);
        return { value: mbps, peaks: { 'tor-client': peakRss } };
      },
    },
    { name: 'gateway GET (curl to /dev/null)', unit: 'MB/s', against: { reference: getReference, target: 0.85 }, watched: gatewayWatch, measure: async () => ({ value: await curlGet(bigUrl, size) }) },
  );
  if (nginx) {
    // A relay in C with the gateway's process layout (server → relay → client): what the third process costs here, whatever its language.
    paths.push({ name: 'nginx relaying nginx GET (proxy_pass, curl)', unit: 'MB/s', against: { reference: NGINX_GET, note: '(reference)' }, watched: [], measure: async () => ({ value: await curlGet(`http://127.0.0.1:${nginx.relayPort}/${BIG_FILE}`, size) }) });
    paths.push({ name: NGINX_PUT, unit: 'MB/s', reference: true, watched: [], measure: () => uploads.measure(nginx.putDir, (name) => curlPut(`http://127.0.0.1:${nginx.putPort}/${name}`, source, size)) });
  }
  paths.push(
    { name: 'TFTCP upload, raw socket writer', unit: 'MB/s', against: { reference: putReference, target: 0.95 }, watched: [serverWatch], measure: () => uploads.measure(stack.serverDir, (name) => inClient({ op: 'raw-upload', port: tor.port, file: source, size, name })) },
    ...[1, 4].map(
      (parallel): BenchPath => ({
        name: `tor-client upload --parallel ${parallel} (resumable, from a tmpfs home)`,
        unit: 'MB/s',
        against: { reference: putReference, note: '(begin/put/commit over that many connections)' },
        watched: [serverWatch],
        measure: () => uploads.measure(stack.serverDir, async (name) => (await cliUpload(tor.port, source, size, name, stack.home, parallel)).mbps),
      }),
    ),
    { name: 'gateway PUT (curl -T)', unit: 'MB/s', against: { reference: putReference, target: 0.75 }, watched: gatewayWatch, measure: () => uploads.measure(stack.serverDir, (name) => curlPut(`${gateway.url}/api/files/${name}`, source, size)) },
    {
      name: 'gateway multipart upload (browser-shaped, size field first)',
      unit: 'MB/s',
      against: { reference: putReference, target: 0.7, note: `(of ${nginx ? 'nginx PUT' : 'the baseline'})` },
      watched: gatewayWatch,
      measure: () => uploads.measure(stack.serverDir, (name) => inClient({ op: 'multipart-upload', base: gateway.url, file: source, size, name })),
    },
  );
  if (nginx) paths.push({ name: NGINX_SMALL, unit: 'req/s', reference: true, watched: [], measure: () => smallFiles(`http://127.0.0.1:${nginx.filePort}/${SMALL_FILE}`, stack.small) });
  paths.push(
    {
      name: 'gateway: 16 clients × 4 KiB GET (keep-alive)',
      unit: 'req/s',
      against: nginx ? { reference: NGINX_SMALL, target: 0.5 } : undefined,
      watched: gatewayWatch,
      measure: () => smallFiles(`${gateway.url}/api/files/${SMALL_FILE}`, stack.small),
    },
    {
      name: 'gateway: 64 KiB range mid-file, 10,000 files in the folder (p50)',
      unit: 'ms',
      watched: [
        { program: 'tor-server', pid: stack.rangeTor.child.pid! },
        { program: 'gateway', pid: stack.rangeGateway.child.pid! },
      ],
      measure: async () => {
        const { median, p99 } = await rangeLatency(`${stack.rangeGateway.url}/api/files/${BIG_FILE}`, size, undefined, await rangeBytes(source, size));
        return { value: median, p50: median, p99 };
      },
    },
  );
  return onlyAsked(paths, process.env.BENCH_ONLY);
}

/**
 * The paths whose names contain one of the comma-separated words of `only` (BENCH_ONLY), with
 * the references they are measured against; every path when it is unset.
 */
function onlyAsked(paths: BenchPath[], only: string | undefined): BenchPath[] {
  const words = (only ?? '').split(',').map((word) => word.trim().toLowerCase()).filter(Boolean);
  if (words.length === 0) return paths;
  const asked = paths.filter((p) => words.some((word) => p.name.toLowerCase().includes(word)));
  const references = new Set(asked.map((p) => p.against?.reference));
  return paths.filter((p) => asked.includes(p) || references.has(p.name));
}

/** The bytes of the file at the range the latency row asks for, to compare every answer with. */
async function rangeBytes(file: string, size: number): Promise<Buffer> {
  const { start, length } = middleRange(size);
  const handle = await fs.open(file);
  try {
    const { buffer } = await handle.read(Buffer.alloc(length), 0, length, start);
    return buffer;
  } finally {
    await handle.close();
  }
}

async function smallFiles(url: string, expected: Buffer) {
  const { perSecond, p50, p99, errors } = await keepAliveLoad(url, expected, SMALL_LOAD);
  return { value: perSecond, p50, p99, errors };
}

/** Each upload round stores under a fresh name, checks the stored bytes' sha256, then deletes the file. */
class Uploads {
  readonly #stack: Stack;
  #count = 0;

  constructor(stack: Stack) {
    this.#stack = stack;
  }

  async measure(dir: string, upload: (name: string) => Promise<number>): Promise<{ value: number }> {
    const name = `up-${this.#count++}.bin`;
    const value = await upload(name);
    const stored = path.join(dir, name);
    const hash = await sha256File(stored);
    await fs.rm(stored);
    if (hash !== this.#stack.sourceHash) throw new Error(`${stored} differs from the source (sha256 ${hash})`);
    return { value };
  }
}
