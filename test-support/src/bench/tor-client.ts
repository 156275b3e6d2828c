import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import path from 'node:path';
import { TOR_CLIENT_BIN } from '../processes.js';
import { sha256File } from '../hash.js';
import { memoryOf } from '../proc-stats.js';
import { mbps } from './report.js';

const RSS_POLL_MS = 20;

/**
 * Runs `tor-client --host 127.0.0.1 --port <port> --home <home> <args>` and times it from
 * spawn to exit (process start-up included, as a user sees it), sampling its peak RSS while it
 * runs; throws with its output unless it exits 0.
 */
async function runTorClient(port: number, home: string, args: string[], nodeFlags: string[] = []): Promise<{ ms: number; peakRss: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [...nodeFlags, TOR_CLIENT_BIN, '--host', '127.0.0.1', '--port', String(port), '--home', home, ...args], {
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
  return { ms, peakRss };
}

/**
 * Runs `tor-client download <name>` into `home`, timed from spawn to exit, with its peak RSS.
 * The saved file is checked for its size (and its sha256 when given) and removed.
 */
export async function cliDownload(port: number, name: string, size: number, home: string, nodeFlags: string[] = [], expectedHash?: string): Promise<{ mbps: number; peakRss: number }> {
  const { ms, peakRss } = await runTorClient(port, home, ['download', name], nodeFlags);
  const saved = path.join(home, 'tor-files', 'Downloads', name);
  const { size: savedSize } = await fs.stat(saved);
  // Checked after the timing: a client that saved other bytes of the right length fails the round.
  const savedHash = expectedHash === undefined ? undefined : await sha256File(saved);
  await fs.rm(saved);
  if (savedSize !== size) throw new Error(`tor-client saved ${savedSize} of ${size} bytes`);
  if (savedHash !== expectedHash) throw new Error(`tor-client saved other bytes than the server's (sha256 ${savedHash})`);
  return { mbps: mbps(size, ms), peakRss };
}

/**
 * Runs `tor-client --parallel <parallel> upload <name>` of `source` (linked into `home`'s
 * Uploads folder as `name`), timed from spawn to exit, with its peak RSS. The caller checks
 * what the server stored.
 */
export async function cliUpload(port: number, source: string, size: number, name: string, home: string, parallel: number): Promise<{ mbps: number; peakRss: number }> {
  const uploads = path.join(home, 'tor-files', 'Uploads');
  await fs.mkdir(uploads, { recursive: true });
  const linked = path.join(uploads, name);
  await fs.symlink(source, linked);
  try {
    const { ms, peakRss } = await runTorClient(port, home, ['--parallel', String(parallel), 'upload', name]);
    return { mbps: mbps(size, ms), peakRss };
  } finally {
    await fs.rm(linked, { force: true });
  }
}
