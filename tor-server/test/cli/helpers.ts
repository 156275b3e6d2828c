import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TorServer } from '../../src/server/server.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The built tor-client bin, as a user runs it. */
export const CLIENT_BIN = path.resolve(here, '../../dist/bin/tor-client.js');

/** A scratch folder, removed by the returned cleanup. */
export async function scratch(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
}

/** A real tor-server on 127.0.0.1 with a fresh folder. */
export async function startServer(options: Parameters<typeof TorServer.start>[0] = {}): Promise<{ server: TorServer; port: number; dir: string }> {
  const dir = await scratch('tor-cli-server');
  const server = await TorServer.start({ host: '127.0.0.1', port: 0, dir, ...options });
  return { server, port: server.address().port, dir };
}

/** What a finished child process printed and its exit code. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the tor-client bin with `args`, feeding `input` to its stdin; bounded by a timeout. */
export function runClient(args: string[], options: { cwd: string; input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLIENT_BIN, ...args], { cwd: options.cwd, env: { ...process.env, TOR_HOST: '', TOR_PORT: '', ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tor-client ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 15_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
