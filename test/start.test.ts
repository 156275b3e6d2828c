/**
 * `npm start` (scripts/start.mjs) as a user runs it: real child processes on free ports in a
 * scratch folder. Regressions: `npm start -- --port 7778` was silently ignored, and a death
 * message trailed off ("tor-server died (exit code 1); stopping the").
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const START = path.join(ROOT, 'scripts/start.mjs');
/** The longest one wait may take: start-up of two Node programs on a loaded 2-core machine. */
const WAIT_MS = 30_000;
const TEST_TIMEOUT_MS = 60_000;

/** `node scripts/start.mjs ...args`, with everything it prints so far. */
class StartRun {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stdout = '';
  stderr = '';

  constructor(t: TestContext, args: string[]) {
    // The environment could otherwise choose ports or folders for the children.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(TOR|GATEWAY)_/.test(key)));
    this.child = spawn(process.execPath, [START, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.stdout += d));
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    // start.mjs stops its children on SIGTERM; the test must not leave either running.
    t.after(async () => {
      if (this.child.exitCode === null && this.child.signalCode === null) {
        this.child.kill('SIGTERM');
        await this.exitCode().catch(() => this.child.kill('SIGKILL'));
      }
    });
  }

  /** Waits until stdout matches `pattern`; fails with both logs after WAIT_MS or if it exits first. */
  async waitFor(pattern: RegExp): Promise<RegExpExecArray> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const match = pattern.exec(this.stdout);
      if (match) return match;
      if (Date.now() > deadline || this.child.exitCode !== null) {
        throw new Error(`never saw ${pattern}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async exitCode(): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`npm start did not exit\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`)), WAIT_MS);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A TCP port that was free a moment ago (listen on 0, note it, close). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A server holding a port, so whatever is told to listen there fails. */
async function occupiedPort(t: TestContext): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as net.AddressInfo).port;
}

/** Resolves true when something accepts a TCP connection on 127.0.0.1:`port`. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Sends `show` over TFTCP and returns the reply lines up to `end`. */
function tftcpShow(port: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no listing from 127.0.0.1:${port}: ${JSON.stringify(text)}`));
    }, WAIT_MS);
    socket.on('error', reject);
    socket.on('data', (d: Buffer) => {
      text += d;
      const lines = text.split('\n');
      if (lines.includes('end')) {
        clearTimeout(timer);
        socket.destroy();
        resolve(lines.slice(0, lines.indexOf('end')));
      }
    });
    socket.write('show\n');
  });
}

test('--tor-port, --gateway-port, --dir and --host reach both programs; SIGINT stops both', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tor-start-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  await fs.writeFile(path.join(dir, 'hello.txt'), 'hi');
  const torPort = await freePort();
  const gatewayPort = await freePort();

  const run = new StartRun(t, ['--tor-port', String(torPort), '--gateway-port', String(gatewayPort), '--dir', dir, '--host', '127.0.0.1']);
  await run.waitFor(new RegExp(`open http://127\\.0\\.0\\.1:${gatewayPort} in your browser`));
  assert.match(run.stdout, new RegExp(`tor-server listening on 127\\.0\\.0\\.1:${torPort}, serving ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.match(run.stdout, new RegExp(`tor-gateway listening on http://127\\.0\\.0\\.1:${gatewayPort} `));

  // The tor-server serves --dir on --tor-port, and the gateway reaches it there.
  assert.deepEqual(
    (await tftcpShow(torPort)).slice(1).map((row) => row.split('\t')[0]),
    ['hello.txt'],
  );
  const listing = (await (await fetch(`http://127.0.0.1:${gatewayPort}/api/files`)).json()) as Array<{ name: string }>;
  assert.deepEqual(
    listing.map((file) => file.name),
    ['hello.txt'],
  );

  run.child.kill('SIGINT');
  assert.equal(await run.exitCode(), 0, run.stderr);
  assert.match(run.stdout, /SIGINT: stopping the tor-server and the gateway\n/);
  assert.equal(await accepts(torPort), false, 'the tor-server is stopped');
  assert.equal(await accepts(gatewayPort), false, 'the gateway is stopped');
});

test('an unknown option or a bad port exits 2 with the usage, starting nothing', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  for (const args of [['--port', '7778'], ['--tor-port', 'seven'], ['--gateway-port', '70000'], ['extra']]) {
    const run = new StartRun(t, args);
    assert.equal(await run.exitCode(), 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, /^npm start: .+\n\nUsage: npm start -- \[options\]/, args.join(' '));
    assert.doesNotMatch(run.stdout, /listening/);
  }
  const help = new StartRun(t, ['--help']);
  assert.equal(await help.exitCode(), 0);
  assert.match(help.stdout, /^Usage: npm start -- \[options\]\n[\s\S]*--dir DIR[\s\S]*--tor-port PORT[\s\S]*--gateway-port PORT[\s\S]*--host HOST/);
});

test('a tor-server that cannot start is reported in a whole sentence', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tor-start-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const run = new StartRun(t, ['--tor-port', String(await occupiedPort(t)), '--host', '127.0.0.1', '--dir', dir]);
  assert.equal(await run.exitCode(), 1);
  assert.match(run.stderr, /\[start\] tor-server died \(exit code 1\); nothing else was running\n/);
});

test('a gateway that cannot start stops the tor-server, and says so', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tor-start-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const torPort = await freePort();
  const run = new StartRun(t, ['--tor-port', String(torPort), '--gateway-port', String(await occupiedPort(t)), '--host', '127.0.0.1', '--dir', dir]);
  assert.equal(await run.exitCode(), 1);
  assert.match(run.stderr, /\[start\] gateway died \(exit code 1\); stopping the tor-server\n/);
  assert.equal(await accepts(torPort), false, 'the tor-server is stopped');
});
