/**
 * The `tor-client download` row: the CLI as a user runs it (a child process saving into a
 * tmpfs home), beside a raw socket reader fetching the same file from the same server, in
 * interleaved rounds. Runs inside `npm run bench`, or alone with `npm run bench:client`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { TOR_CLIENT_BIN, memoryOf } from 'test-support';
import { log, mbps, memoryRow, ratioRow, type Row } from 'test-support/bench';

const CLIENT_RSS_LIMIT_MB = 120;
/** The CLI's share of what the raw reader reaches (issue 11: ≥ 0.8 of nginx, which the raw reader matches). */
const CLIENT_TARGET = 0.8;
const RSS_POLL_MS = 20;
const STARTUP_RUNS = 3;
const DOWNLOAD_REQUEST = (name: string) => `download ${name}\n`;
/** `ok`, `found`, the size: the lines before a download's bytes. */
const REPLY_LINES = 3;

/** One round's figures for each path. */
interface Round {
  raw: number;
  cli: number;
  cliPeakRss: number;
}

/**
 * Times `rounds` interleaved pairs (raw reader, then tor-client) downloading `name` (`size`
 * bytes) from the server on `port`; `home` is the tor-client's home (tmpfs). Returns the
 * table rows: best round of each with the spread, the ratio, and the client's peak RSS.
 */
export async function cliDownloadRows(port: number, name: string, size: number, home: string, rounds: number): Promise<Row[]> {
  const results: Round[] = [];
  for (let i = 0; i < rounds; i++) {
    const raw = await rawSocketDownload(port, name, size);
    const { mbps: cli, peakRss } = await cliDownload(port, name, size, home);
    log(`  round ${i + 1}: raw reader ${raw.toFixed(0)} MB/s, tor-client ${cli.toFixed(0)} MB/s (peak RSS ${(peakRss / 1024 ** 2).toFixed(0)} MB)`);
    results.push({ raw, cli, cliPeakRss: peakRss });
  }
  const raws = results.map((r) => r.raw);
  const clis = results.map((r) => r.cli);
  const bestRaw = Math.max(...raws);
  const bestCli = Math.max(...clis);
  return [
    { name: 'tor-client start-up (--help; part of each round below)', value: `${startupMs().toFixed(0)} ms` },
    { name: `TFTCP download, raw socket reader (spread ${spread(raws)})`, value: `${bestRaw.toFixed(0)} MB/s` },
    { ...ratioRow('tor-client download (tmpfs home)', bestCli, bestRaw, CLIENT_TARGET), name: `tor-client download, tmpfs home (spread ${spread(clis)})` },
    memoryRow('tor-client peak RSS', Math.max(...results.map((r) => r.cliPeakRss)), CLIENT_RSS_LIMIT_MB),
  ];
}

/** The best of a few `tor-client --help` runs: the process start-up each CLI round pays. */
function startupMs(): number {
  let best = Infinity;
  for (let i = 0; i < STARTUP_RUNS; i++) {
    const started = performance.now();
    execFileSync(process.execPath, [TOR_CLIENT_BIN, '--help'], { stdio: 'ignore' });
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

/** "min–max" of a set of MB/s figures. */
function spread(values: number[]): string {
  return `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`;
}

/** A bare socket sends `download`, skips the three reply lines and counts the bytes: what the protocol allows. */
export async function rawSocketDownload(port: number, name: string, size: number): Promise<number> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const started = performance.now();
  socket.write(DOWNLOAD_REQUEST(name));
  let header = Buffer.alloc(0);
  let received = -1;
  for await (const chunk of socket as AsyncIterable<Buffer>) {
    if (received < 0) {
      header = Buffer.concat([header, chunk]);
      const bodyStart = afterLines(header, REPLY_LINES);
      if (bodyStart === undefined) continue;
      const lines = header.subarray(0, bodyStart).toString('latin1').split('\n');
      if (lines[0] !== 'ok' || lines[1] !== 'found' || Number(lines[2]) !== size) throw new Error(`raw reader got "${lines.slice(0, 3).join(' | ')}"`);
      received = header.length - bodyStart;
    } else {
      received += chunk.length;
    }
    if (received >= size) break;
  }
  const ms = performance.now() - started;
  socket.destroy();
  if (received !== size) throw new Error(`raw reader received ${received} of ${size} bytes`);
  return mbps(size, ms);
}

/** The offset just past the `count`th LF in `buffer`, or undefined when it has fewer. */
function afterLines(buffer: Buffer, count: number): number | undefined {
  let at = 0;
  for (let i = 0; i < count; i++) {
    const lf = buffer.indexOf(0x0a, at);
    if (lf === -1) return undefined;
    at = lf + 1;
  }
  return at;
}

/**
 * Runs `tor-client download <name>` into `home` and times it from spawn to exit (process
 * start-up included, as a user sees it), sampling its peak RSS while it runs. The saved file
 * is checked for its size and removed. `bin` is the tor-client to run (another build, to compare).
 */
export async function cliDownload(port: number, name: string, size: number, home: string, nodeFlags: string[] = [], bin = TOR_CLIENT_BIN): Promise<{ mbps: number; peakRss: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [...nodeFlags, bin, '--host', '127.0.0.1', '--port', String(port), '--home', home, 'download', name], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('TOR_'))),
  });
  let output = '';
  child.stdout.on('data', (text: Buffer) => (output += text.toString()));
  child.stderr.on('data', (text: Buffer) => (output += text.toString()));
  let peakRss = 0;
  // VmHWM only grows, so the last sample before the exit is the peak (within one poll).
  const poll = setInterval(() => {
    memoryOf(child.pid!, 'VmHWM').then(
      (bytes) => (peakRss = Math.max(peakRss, bytes)),
      () => {},
    );
  }, RSS_POLL_MS);
  const [code] = (await once(child, 'exit')) as [number | null];
  const ms = performance.now() - started;
  clearInterval(poll);
  if (code !== 0) throw new Error(`tor-client exited ${code}: ${output}`);
  const saved = path.join(home, 'tor-files', 'Downloads', name);
  const { size: savedSize } = await fs.stat(saved);
  await fs.rm(saved);
  if (savedSize !== size) throw new Error(`tor-client saved ${savedSize} of ${size} bytes`);
  return { mbps: mbps(size, ms), peakRss };
}
