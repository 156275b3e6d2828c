import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, pairWith, runNode, within } from 'test-support';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The built tor-client bin, as a user runs it. */
export const CLIENT_BIN = path.resolve(here, '../../dist/bin/tor-client.js');
/** The longest one tor-client run may take (a loaded 2-core machine is slow). */
const CLIENT_RUN_MS = 15_000;

/** What a finished tor-client printed and its exit code. */
export interface RunResult {
  code: number | string;
  stdout: string;
  stderr: string;
}

/** Runs the tor-client bin with `args`, feeding `input` to its stdin; bounded by a timeout. */
export function runClient(args: string[], options: { cwd: string; input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<RunResult> {
  return runNode(undefined, CLIENT_BIN, { args, cwd: options.cwd, input: options.input ?? '', env: { TOR_HOST: '', TOR_PORT: '', TOR_TOKEN: '', ...options.env }, ms: options.timeoutMs ?? CLIENT_RUN_MS });
}

/** The longest a test waits for one thing to show on a terminal (a loaded 2-core machine is slow). */
export const SCREEN_WAIT_MS = 15_000;

/**
 * tor-client on a real pseudo-terminal (util-linux `script`), as a person runs it: its readline
 * is in raw mode, so Ctrl-C arrives as the byte 0x03; without a prompt the terminal turns that
 * byte into SIGINT. `screen` is everything it printed.
 */
export class TtyClient {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  #screen = '';

  constructor(args: string[], options: { cwd: string }) {
    // exec, so the client itself is the terminal's foreground process and gets its signals.
    const command = ['exec', process.execPath, CLIENT_BIN, ...args].map(shellQuote).join(' ');
    this.child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: options.cwd, env: { ...process.env, TOR_HOST: '', TOR_PORT: '', TERM: 'dumb' } });
    this.child.stdout!.on('data', (d: Buffer) => (this.#screen += d.toString()));
    this.exited = new Promise((resolve) => this.child.once('close', resolve));
  }

  get screen(): string {
    return this.#screen;
  }

  /** A position on the screen; waits from there see only later output. */
  mark(): number {
    return this.#screen.length;
  }

  /** Types `text` (a command ends with \r, as the Enter key sends). */
  type(text: string): void {
    this.child.stdin!.write(text);
  }

  /** Waits until `what` shows after `from`; fails with the screen after SCREEN_WAIT_MS. */
  async sees(what: string | RegExp, from = 0): Promise<string> {
    const found = () => {
      const seen = this.#screen.slice(from);
      const text = typeof what === 'string' ? (seen.includes(what) ? what : undefined) : what.exec(seen)?.[0];
      if (text === undefined) throw new Error(`screen:\n${this.#screen}`);
      return text;
    };
    return eventually(found, `seeing ${String(what)}`, SCREEN_WAIT_MS);
  }

  /** The exit code, failing after SCREEN_WAIT_MS. */
  async exitCode(): Promise<number | null> {
    return within(this.exited, SCREEN_WAIT_MS, `tor-client to exit; screen:\n${this.#screen}`);
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * A TCP relay in front of a real server that lets `allow` bytes through in one direction on
 * each connection, then holds the rest, so a transfer can be caught midway without timing
 * tricks. `open()` lets everything through from then on. A held side is not read, so its
 * peer closing is noticed (and passed on) only once the valve is opened.
 */
export interface Valve {
  port: number;
  /** Resolves when a connection first reaches its allowance. */
  held: Promise<void>;
  open(): void;
  close(): Promise<void>;
}

/** Starts a Valve on 127.0.0.1 port 0 relaying to 127.0.0.1:`target`. */
export async function startValve(target: number, options: { direction: 'down' | 'up'; allow: number }): Promise<Valve> {
  let opened = false;
  let reachedLimit!: () => void;
  const held = new Promise<void>((resolve) => (reachedLimit = resolve));
  const reopen = new Set<() => void>();
  const sockets = new Set<net.Socket>();
  const relay = net.createServer((client) => {
    const server = pairWith(client, target, sockets);
    const [from, to] = options.direction === 'down' ? [server, client] : [client, server];
    const other = options.direction === 'down' ? [client, server] : [server, client];
    other[0]!.pipe(other[1]!);
    let passed = 0;
    let waiting: Buffer[] = [];
    const release = () => {
      for (const chunk of waiting) to.write(chunk);
      waiting = [];
      from.resume();
    };
    from.on('data', (chunk: Buffer) => {
      if (opened) return void to.write(chunk);
      const room = options.allow - passed;
      if (room >= chunk.length) {
        passed += chunk.length;
        to.write(chunk);
        return;
      }
      if (room > 0) to.write(chunk.subarray(0, room));
      passed = options.allow;
      waiting.push(chunk.subarray(Math.max(room, 0)));
      from.pause();
      reopen.add(release);
      reachedLimit();
    });
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  return {
    port: (relay.address() as net.AddressInfo).port,
    held,
    open: () => {
      opened = true;
      for (const release of reopen) release();
      reopen.clear();
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => relay.close(() => resolve()));
    },
  };
}
