/**
 * tor-client's large uploads: begin/put/commit over --parallel connections, verified against
 * the server's sha256, resumed after a killed client, a restarted server or a Ctrl-C. Real
 * tor-client processes against a real in-process tor-server, real files.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { Scrape, eventually, scratchDir, sha256, within } from 'test-support';
import { PART_SIZE } from '../../src/cli/resumable-upload.js';
import { TorServer } from '../../src/server/index.js';
import { patternBytes, startServer, visibleNames } from '../helpers.js';
import { CLIENT_BIN, TtyClient, runClient, startValve } from './helpers.js';

const TEST_TIMEOUT_MS = 30_000;
/** Above the threshold, several parts per connection at --parallel 2, and not a whole number of parts. */
const BIG = 36_000_000;
const CTRL_C = '\x03';
/** What a relay lets through per connection before it holds: one whole part and a bit of the next. */
const HOLD_AFTER = PART_SIZE + 2_000_000;

async function metrics(server: TorServer): Promise<Scrape> {
  return new Scrape(await server.metrics.registry.metrics());
}

function commands(scrape: Scrape, command: string): number {
  return scrape.value(`tor_server_commands_total{command="${command}",result="ok"}`);
}

/** A folder for tor-client with `name` of `size` pattern bytes in its uploads folder. */
async function clientHome(t: TestContext, name: string, size: number, seed: number): Promise<{ home: string; payload: Buffer }> {
  const home = await scratchDir(t, 'tor-cli-resume-');
  const payload = patternBytes(size, seed);
  await fs.mkdir(path.join(home, 'tor-files', 'Uploads'), { recursive: true });
  await fs.writeFile(path.join(home, 'tor-files', 'Uploads', name), payload);
  return { home, payload };
}

function client(port: number, home: string, ...command: string[]) {
  return runClient(['--host', '127.0.0.1', '--port', String(port), '--home', home, ...command], { cwd: home, timeoutMs: 25_000 });
}

test('a large upload with --parallel 4 is byte-identical and verified by sha256', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { server, dir, port } = await startServer(t);
  const { home, payload } = await clientHome(t, 'big.bin', BIG, 3);
  const run = await client(port, home, '--parallel', '4', 'upload', 'big.bin');
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^Uploaded big\.bin \(36\.0 MB in [\d.]+ s\)\nverified sha256 ([0-9a-f]{64})\n$/);
  assert.equal(run.stdout.match(/verified sha256 (\S+)/)![1], sha256(payload));
  assert.deepEqual(await fs.readFile(path.join(dir, 'big.bin')), payload);
  assert.deepEqual(await visibleNames(dir), ['big.bin']);
  const scraped = await metrics(server);
  assert.equal(commands(scraped, 'begin'), 1);
  assert.equal(commands(scraped, 'upload'), 0);
  assert.ok(commands(scraped, 'put') >= Math.ceil(BIG / PART_SIZE), 'one put per part at least');
});

test('--parallel 1 and TOR_PARALLEL work; a bad --parallel is a usage error', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { dir, port } = await startServer(t);
  const { home, payload } = await clientHome(t, 'one.bin', 20_000_000, 4);
  const run = await client(port, home, '--parallel', '1', 'upload', 'one.bin');
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(await fs.readFile(path.join(dir, 'one.bin')), payload);

  const bad = await client(port, home, '--parallel', '0', 'upload', 'one.bin');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--parallel "0" is not a number of connections from 1 to 16/);
  const badEnv = await runClient(['--port', String(port), '--home', home, 'upload', 'one.bin'], { cwd: home, env: { TOR_PARALLEL: 'many' } });
  assert.equal(badEnv.code, 2);
});

test('a file up to the threshold still goes by the one-shot upload', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { server, dir, port } = await startServer(t);
  const { home, payload } = await clientHome(t, 'small.bin', 8 * 1024 * 1024, 5);
  const run = await client(port, home, 'upload', 'small.bin');
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^Uploaded small\.bin \(8\.4 MB in [\d.]+ s\)\n$/);
  assert.deepEqual(await fs.readFile(path.join(dir, 'small.bin')), payload);
  const scraped = await metrics(server);
  assert.equal(commands(scraped, 'upload'), 1);
  assert.equal(commands(scraped, 'begin'), 0);
});

test('a file already on the server is refused at begin: one line, exit 1, nothing sent', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { server, dir, port } = await startServer(t);
  const { home } = await clientHome(t, 'taken.bin', BIG, 6);
  await fs.writeFile(path.join(dir, 'taken.bin'), 'the server copy');
  const run = await client(port, home, 'upload', 'taken.bin');
  assert.equal(run.code, 1);
  assert.equal(run.stderr, 'File already exists: taken.bin\n');
  assert.equal(await fs.readFile(path.join(dir, 'taken.bin'), 'utf8'), 'the server copy');
  assert.equal((await metrics(server)).value('tor_server_received_bytes_total'), 0);
});

/** Starts `upload big.bin` at --parallel 2 through a relay that holds it midway, and SIGKILLs tor-client there. */
async function killMidway(t: TestContext, server: TorServer, port: number, home: string): Promise<void> {
  const valve = await startValve(port, { direction: 'up', allow: HOLD_AFTER });
  t.after(() => valve.close());
  const first = spawn(process.execPath, [CLIENT_BIN, '--host', '127.0.0.1', '--port', String(valve.port), '--home', home, '--parallel', '2', 'upload', 'big.bin'], { cwd: home, stdio: 'ignore' });
  t.after(() => first.kill('SIGKILL'));
  const exited = new Promise((resolve) => first.once('close', resolve));
  await twoPartsReceived(server);
  first.kill('SIGKILL');
  await within(exited, 10_000, 'the killed tor-client to exit');
  // The relay drops its held connections, so the server sees the cut puts and keeps what they wrote.
  await valve.close();
}

/** Waits until both connections are past their first part and held in their second. */
async function twoPartsReceived(server: TorServer): Promise<void> {
  await eventually(async () => (await metrics(server)).value('tor_server_received_bytes_total') >= 2 * PART_SIZE + 1_000_000, 'the server received two parts and more', 20_000);
}

test('a tor-client killed midway resumes when run again, sending little twice', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { server, dir, port } = await startServer(t);
  const { home, payload } = await clientHome(t, 'big.bin', BIG, 7);
  await killMidway(t, server, port, home);

  const run = await client(port, home, '--parallel', '2', 'upload', 'big.bin');
  assert.equal(run.code, 0, run.stderr);
  const percent = Number(run.stdout.match(/^resuming at (\d+)% \(/)?.[1]);
  assert.ok(percent >= 40 && percent < 100, `resumed at ${percent}%: ${run.stdout}`);
  assert.deepEqual(await fs.readFile(path.join(dir, 'big.bin')), payload);
  const resent = (await metrics(server)).value('tor_server_received_bytes_total') - BIG;
  assert.ok(resent < 2 * PART_SIZE, `${resent} bytes were sent twice`);
});

test('a local file changed between attempts fails verification loudly, naming both digests', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { server, dir, port } = await startServer(t);
  const { home, payload } = await clientHome(t, 'big.bin', BIG, 10);
  await killMidway(t, server, port, home);
  // Same size, other first bytes: the resume reads and hashes them but does not send them again.
  const changed = Buffer.from(payload);
  changed.fill(0, 0, 1000);
  await fs.writeFile(path.join(home, 'tor-files', 'Uploads', 'big.bin'), changed);

  const run = await client(port, home, 'upload', 'big.bin');
  assert.equal(run.code, 1);
  const server256 = sha256(Buffer.concat([payload.subarray(0, 1000), changed.subarray(1000)]));
  assert.match(run.stderr, new RegExp(`^Verification failed: the local file has sha256 ${sha256(changed)}, but the server's file big\\.bin has sha256 ${server256}: the server file differs from the local one\\.`));
});

/**
 * A relay to 127.0.0.1:`target` that cuts each of the first `cuts` connections once it has
 * passed `after` bytes upward; later connections pass untouched.
 */
async function startCutter(t: TestContext, target: number, after: number, cuts: number): Promise<number> {
  let cut = 0;
  const sockets = new Set<net.Socket>();
  const relay = net.createServer((client) => {
    const server = net.connect({ host: '127.0.0.1', port: target });
    for (const socket of [client, server]) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.on('error', () => {});
      socket.once('close', () => [client, server].forEach((s) => s.destroy()));
    }
    server.pipe(client);
    let passed = 0;
    client.on('data', (chunk: Buffer) => {
      passed += chunk.length;
      if (passed > after && cut < cuts) {
        cut++;
        client.destroy();
        server.destroy();
      } else server.write(chunk);
    });
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => relay.close(() => resolve()));
  });
  return (relay.address() as net.AddressInfo).port;
}

test('a put cut by a lost connection is sent again on a new connection, and the upload completes', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { server, dir, port } = await startServer(t);
  const { home, payload } = await clientHome(t, 'big.bin', BIG, 11);
  const relayPort = await startCutter(t, port, 3_000_000, 2);
  const run = await client(relayPort, home, '--parallel', '2', 'upload', 'big.bin');
  assert.equal(run.code, 0, run.stderr);
  assert.doesNotMatch(run.stdout, /resuming/);
  assert.deepEqual(await fs.readFile(path.join(dir, 'big.bin')), payload);
  const scraped = await metrics(server);
  assert.equal(scraped.value('tor_server_commands_total{command="put",result="cut"}'), 2);
});

test('an upload cut by a server restart exits 3 with the resume line, then resumes against the new server', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const dir = await scratchDir(t, 'tor-test-');
  const stateDir = path.join(await scratchDir(t, 'tor-state-'), 'state');
  const before = await TorServer.start({ host: '127.0.0.1', port: 0, dir, stateDir });
  let stopped: Promise<void> | undefined;
  t.after(() => (stopped ??= before.close(0)));
  const { home, payload } = await clientHome(t, 'big.bin', BIG, 8);
  const valve = await startValve(before.address().port, { direction: 'up', allow: HOLD_AFTER });
  t.after(() => valve.close());

  const cut = client(valve.port, home, '--parallel', '2', 'upload', 'big.bin');
  await twoPartsReceived(before);
  await within((stopped ??= before.close(0)), 10_000, 'the first server to stop');
  await valve.close();
  const lost = await cut;
  assert.equal(lost.code, 3, lost.stderr);
  assert.match(lost.stderr, /^Connection lost during the upload of big\.bin at \d+%: .*; what the server stored is kept, run upload big\.bin again to resume\n$/);

  const { port } = await startServer(t, { dir, stateDir });
  const run = await client(port, home, 'upload', 'big.bin');
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^resuming at [1-9]\d?% \(/);
  assert.deepEqual(await fs.readFile(path.join(dir, 'big.bin')), payload);
});

test('Ctrl-C at the prompt cancels a large upload with the resume line; upload again resumes', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { server, dir, port } = await startServer(t);
  const { home, payload } = await clientHome(t, 'big.bin', BIG, 9);
  const valve = await startValve(port, { direction: 'up', allow: HOLD_AFTER });
  t.after(() => valve.close());
  const tty = new TtyClient(['--host', '127.0.0.1', '--port', String(valve.port), '--home', home, '--parallel', '2'], { cwd: home });
  t.after(() => tty.kill());

  await tty.sees('>> ');
  tty.type('upload big.bin\r');
  await twoPartsReceived(server);
  let from = tty.mark();
  tty.type(CTRL_C);
  await tty.sees(/cancelled: upload of big\.bin at \d+%; run upload big\.bin again to resume/, from);
  await tty.sees('>> ', from);
  assert.deepEqual(await visibleNames(dir), [], 'the partial is invisible until committed');

  valve.open();
  from = tty.mark();
  tty.type('upload big.bin\r');
  await tty.sees(/resuming at [1-9]\d?% \(/, from);
  await tty.sees(/verified sha256 [0-9a-f]{64}/, from);
  assert.deepEqual(await fs.readFile(path.join(dir, 'big.bin')), payload);
  tty.type('exit\r');
  assert.equal(await tty.exitCode(), 0);
});
