import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseListening, type GatewayListening, type TorServerListening } from './listening.js';
import { memoryOf, openFds } from './proc-stats.js';
import type { Owner } from './scope.js';
import { scratchDir } from './scratch.js';
import { within } from './wait.js';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
/** The built tor-server program (`npm run build -w tor-server`). */
export const TOR_SERVER_BIN = path.join(REPO_ROOT, 'tor-server/dist/bin/tor-server.js');
/** The built gateway program (`npm run build -w gateway`). */
/** The built tor-client CLI. */
export const TOR_CLIENT_BIN = path.join(REPO_ROOT, 'tor-server/dist/bin/tor-client.js');
export const GATEWAY_BIN = path.join(REPO_ROOT, 'gateway/dist/main.js');
/** The gateway's entry in source, run through tsx: gateway tests need no gateway build. */
export const GATEWAY_SOURCE = path.join(REPO_ROOT, 'gateway/src/main.ts');

/** The longest a program may take to print its listening line (tsx compiling the gateway on a loaded 2-core machine). */
export const START_MS = 20_000;
/** How long `stop()` lets a process exit on SIGTERM before it sends SIGKILL. */
const STOP_MS = 5000;
// The developer's shell must not choose ports, folders or limits for a program under test.
const OWN_VARIABLES = /^(TOR|GATEWAY)_/;

/** A Node program started by a test or bench, with everything it printed kept for assertions and failure messages. */
export interface NodeProcess {
  readonly child: ChildProcess;
  /** The script's file name, for messages. */
  readonly name: string;
  /** Resolves with the exit code (or the signal's name) once the process has exited and its output is read. */
  readonly exited: Promise<number | string>;
  stdout(): string;
  stderr(): string;
  /** stdout and stderr as they arrived, interleaved. */
  output(): string;
  /** The complete stdout lines so far. */
  lines(): string[];
  /** Resolves with `match`'s answer for the first stdout line (printed already or later) it accepts; fails when the process exits first or after `ms`. */
  firstLine<T>(match: (line: string) => T | undefined, what: string, ms?: number): Promise<T>;
  /** Resident memory now, and the most it ever had (Linux /proc), in bytes. */
  rss(): Promise<number>;
  peakRss(): Promise<number>;
  /** Open file descriptors now. */
  fds(): Promise<number>;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
  /** SIGTERM, SIGKILL when it has not exited within a bounded wait; then waits for the exit. */
  stop(): Promise<void>;
}

export interface NodeOptions {
  args?: string[];
  /** Flags for Node itself, before the script (`--import tsx`, `--initial-heap-size=64`). */
  nodeFlags?: string[];
  /** Added to this process's environment, from which TOR_* and GATEWAY_* are removed. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to its stdin, which then ends; without it stdin is closed. */
  input?: string;
}

/** Starts `node <script>`; killed when `owner` ends (without an owner the caller stops it). */
export function spawnNode(owner: Owner | undefined, script: string, options: NodeOptions = {}): NodeProcess {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !OWN_VARIABLES.test(key)));
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), script, ...(options.args ?? [])], {
    cwd: options.cwd,
    env: { ...env, ...options.env },
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (options.input !== undefined) child.stdin!.end(options.input);
  const name = path.basename(script);
  let stdout = '';
  let stderr = '';
  let output = '';
  const lines: string[] = [];
  const newLine = new EventEmitter();
  child.stdout!.setEncoding('utf8').on('data', (text: string) => ((stdout += text), (output += text)));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => ((stderr += text), (output += text)));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    newLine.emit('line', line);
  });
  // 'close', not 'exit': by then everything it printed has been read.
  const exited = new Promise<number | string>((resolve) => child.once('close', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const running = () => child.exitCode === null && child.signalCode === null;
  const kill = async () => {
    if (running()) child.kill('SIGKILL');
    await exited;
  };
  owner?.after(kill);
  return {
    child,
    name,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    output: () => output,
    lines: () => lines,
    firstLine<T>(match: (line: string) => T | undefined, what: string, ms = START_MS): Promise<T> {
      const found = new Promise<T>((resolve, reject) => {
        const look = (line: string) => {
          const answer = match(line);
          if (answer === undefined) return;
          newLine.off('line', look);
          resolve(answer);
        };
        for (const line of lines) look(line);
        newLine.on('line', look);
        void exited.then((code) => {
          newLine.off('line', look);
          reject(new Error(`${name} exited (${code}) before ${what}: ${stderr.trim() || '(nothing on stderr)'}`));
        });
      });
      return within(found, ms, `${name} to print ${what}`).catch((error: Error) => {
        error.message += `\noutput so far:\n${output}`;
        throw error;
      });
    },
    rss: () => memoryOf(child.pid!, 'VmRSS'),
    peakRss: () => memoryOf(child.pid!, 'VmHWM'),
    fds: () => openFds(child.pid!),
    kill,
    stop: () => stopChild(child, exited),
  };
}

/**
 * SIGTERM (a program's own shutdown, and nginx's master taking its workers down), SIGKILL when
 * it has not exited within a bounded wait; resolves once it has exited.
 */
export async function stopChild(child: ChildProcess, exited?: Promise<unknown>): Promise<void> {
  const running = child.exitCode === null && child.signalCode === null;
  const done = exited ?? (running ? new Promise((resolve) => child.once('close', resolve)) : Promise.resolve());
  if (!running) return void (await done);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_MS);
  await done;
  clearTimeout(timer);
}

/** Runs `node <script>` to its end (bounded by `ms`) and returns its exit code and output. */
export async function runNode(owner: Owner | undefined, script: string, options: NodeOptions & { ms?: number } = {}): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const run = spawnNode(owner, script, options);
  try {
    const code = await within(run.exited, options.ms ?? START_MS, `${run.name} ${(options.args ?? []).join(' ')} to exit`);
    return { code, stdout: run.stdout(), stderr: run.stderr() };
  } catch (error) {
    await run.kill();
    (error as Error).message += `\nstdout: ${run.stdout()}\nstderr: ${run.stderr()}`;
    throw error;
  }
}

/** Waits for a started program's listening line; a program that does not get there is killed. */
async function listening<P extends TorServerListening | GatewayListening>(run: NodeProcess, program: P['program']): Promise<P> {
  try {
    return await run.firstLine((line) => {
      const parsed = parseListening(line);
      return parsed?.program === program ? (parsed as P) : undefined;
    }, 'listening');
  } catch (error) {
    await run.kill();
    throw error;
  }
}

export interface TorServerProcess extends NodeProcess {
  host: string;
  port: number;
  /** The absolute folder it said it serves. */
  servedDir: string;
  /** Its TLS port beside the plain one (--tls-port), if it has one. */
  tlsPort?: number;
}

/**
 * The V8 flags every deployment starts the tor-server and the gateway with (their bins'
 * shebangs, npm start, the image, compose; see tor-server/src/bin/tor-server.ts and
 * gateway/src/main.ts): tests and benches run them the same way.
 */
export const TOR_SERVER_NODE_FLAGS = ['--initial-heap-size=32'];
export const GATEWAY_NODE_FLAGS = ['--initial-heap-size=64'];

export interface TorServerOptions {
  /** Serve this folder on 127.0.0.1:`port`; without it only `args` and `env` configure it. */
  dir?: string;
  /** 0 (the default): a free port. */
  port?: number;
  /** More flags, after those `dir` and `port` make. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Flags for Node itself: TOR_SERVER_NODE_FLAGS unless given. */
  nodeFlags?: string[];
  /** Another build of the program (an older one, to see a test catch its bug). */
  bin?: string;
}

/** Starts the built tor-server and waits for its listening line. */
export async function spawnTorServer(owner: Owner | undefined, options: TorServerOptions = {}): Promise<TorServerProcess> {
  const where = options.dir === undefined ? [] : ['--host', '127.0.0.1', '--port', String(options.port ?? 0), '--dir', options.dir];
  const run = spawnNode(owner, options.bin ?? TOR_SERVER_BIN, { args: [...where, ...(options.args ?? [])], env: options.env, nodeFlags: options.nodeFlags ?? TOR_SERVER_NODE_FLAGS });
  const line = await listening<TorServerListening>(run, 'tor-server');
  return { ...run, host: line.host, port: line.port, servedDir: line.dir, ...(line.tlsPort !== undefined && { tlsPort: line.tlsPort }) };
}

export interface GatewayProcess extends NodeProcess {
  /** Its base URL, http://host:port. */
  url: string;
  host: string;
  port: number;
}

export interface GatewayOptions {
  /** The tor-server's port on 127.0.0.1. */
  torPort: number;
  /** 0 (the default): a free port. */
  port?: number;
  /** The web app it serves; a fresh empty folder when not given (that needs an owner). */
  webDir?: string;
  /** More flags, after the ones the options above make. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Flags for Node itself: GATEWAY_NODE_FLAGS unless given. */
  nodeFlags?: string[];
  /** Run src/main.ts through tsx instead of the build. */
  fromSource?: boolean;
}

/** Starts the gateway (the build, or the source) on 127.0.0.1 and waits for its listening line. */
export async function spawnGateway(owner: Owner | undefined, options: GatewayOptions): Promise<GatewayProcess> {
  if (options.webDir === undefined && owner === undefined) throw new Error('spawnGateway: give a webDir, or an owner for a scratch one');
  const webDir = options.webDir ?? (await scratchDir(owner!, 'tft-web-'));
  const args = ['--host', '127.0.0.1', '--port', String(options.port ?? 0), '--tor-host', '127.0.0.1', '--tor-port', String(options.torPort), '--web-dir', webDir, ...(options.args ?? [])];
  const nodeFlags = [...(options.fromSource ? ['--import', 'tsx'] : []), ...(options.nodeFlags ?? GATEWAY_NODE_FLAGS)];
  const run = spawnNode(owner, options.fromSource ? GATEWAY_SOURCE : GATEWAY_BIN, { args, env: options.env, nodeFlags });
  const line = await listening<GatewayListening>(run, 'tor-gateway');
  return { ...run, url: line.url, host: line.host, port: line.port };
}
