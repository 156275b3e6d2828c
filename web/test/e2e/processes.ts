import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const TOR_SERVER_BIN = path.join(REPO_ROOT, 'tor-server/dist/bin/tor-server.js');
export const GATEWAY_BIN = path.join(REPO_ROOT, 'gateway/dist/main.js');
export const TOR_CLIENT_BIN = path.join(REPO_ROOT, 'tor-server/dist/bin/tor-client.js');
export const WEB_DIST = path.join(REPO_ROOT, 'web/dist');

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/** A child process started by a test, with everything it printed kept for failure reports. */
export interface Child {
  process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Fails early with the command to run when a workspace has not been built. */
export function requireBuilt(): void {
  for (const [file, command] of [
    [TOR_SERVER_BIN, 'npm run build -w tor-server'],
    [GATEWAY_BIN, 'npm run build -w gateway'],
    [path.join(WEB_DIST, 'index.html'), 'npm run build -w web'],
  ] as const) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`${command}\` first`);
  }
}

/** Spawns `node <script> ...args` and resolves once a stdout line matches `ready`. */
async function startNode(script: string, args: string[], ready: RegExp): Promise<{ child: Child; match: RegExpExecArray }> {
  const processHandle = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => (output += chunk.toString());
  processHandle.stdout.on('data', collect);
  processHandle.stderr.on('data', collect);
  const child: Child = {
    process: processHandle,
    output: () => output,
    stop: () => stopChild(processHandle),
  };
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${path.basename(script)} did not start in time:\n${output}`)), START_TIMEOUT_MS);
    const onData = () => {
      const found = ready.exec(output);
      if (found) {
        cleanup();
        resolve(found);
      }
    };
    const onExit = (code: number | null) => fail(new Error(`${path.basename(script)} exited (${code}) before listening:\n${output}`));
    function cleanup() {
      clearTimeout(timer);
      processHandle.stdout.off('data', onData);
      processHandle.off('exit', onExit);
    }
    function fail(error: Error) {
      cleanup();
      processHandle.kill('SIGKILL');
      reject(error);
    }
    processHandle.stdout.on('data', onData);
    processHandle.once('exit', onExit);
  });
  return { child, match };
}

/** SIGTERM, then SIGKILL if the process has not exited within a bounded wait. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/** Starts a real tor-server serving `dir`; port 0 picks a free port; `args` are extra flags (`--open-access admin`). */
export async function startTorServer(dir: string, port = 0, args: readonly string[] = []): Promise<Child & { port: number }> {
  const { child, match } = await startNode(
    TOR_SERVER_BIN,
    ['--host', '127.0.0.1', '--port', String(port), '--dir', dir, ...args],
    /tor-server listening on \S+:(\d+),/,
  );
  return { ...child, port: Number(match[1]) };
}

/** Starts a real gateway in front of the tor-server on `torPort`, serving the built web app. */
export async function startGateway(torPort: number, port = 0): Promise<Child & { url: string; port: number }> {
  const { child, match } = await startNode(
    GATEWAY_BIN,
    ['--host', '127.0.0.1', '--port', String(port), '--tor-host', '127.0.0.1', '--tor-port', String(torPort), '--web-dir', WEB_DIST],
    /tor-gateway listening on (http:\/\/[^\s]+:(\d+))/,
  );
  return { ...child, url: match[1]!, port: Number(match[2]) };
}
