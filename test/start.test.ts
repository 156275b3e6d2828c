/**
 * `npm start` (scripts/start.mjs) as a user runs it: real child processes on free ports in a
 * scratch folder. Regressions: `npm start -- --port 7778` was silently ignored, and a death
 * message trailed off ("tor-server died (exit code 1); stopping the").
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { accepts, freePort, scratchDir, spawnNode, within, type NodeProcess } from 'test-support';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const START = path.join(ROOT, 'scripts/start.mjs');
/** The longest one wait may take: start-up of two Node programs on a loaded 2-core machine. */
const WAIT_MS = 30_000;
const TEST_TIMEOUT_MS = 60_000;

/**
 * `node scripts/start.mjs ...args`, stopped (with its children) when the test ends. The metrics
 * take free ports unless `args` name them: tests run side by side, and 9777 may be taken.
 */
function startRun(t: TestContext, args: string[]): NodeProcess {
  const metrics = args.includes('--tor-metrics-port') ? [] : ['--tor-metrics-port', '0', '--gateway-metrics-port', '0'];
  const run = spawnNode(undefined, START, { args: [...args, ...metrics], cwd: ROOT });
  // SIGTERM, not the SIGKILL an owner would send: start.mjs stops its children on SIGTERM.
  t.after(() => run.stop());
  return run;
}

/** Waits for a stdout line matching `pattern`; fails with both logs after WAIT_MS or if npm start exits first. */
function sees(run: NodeProcess, pattern: RegExp): Promise<RegExpExecArray> {
  return run.firstLine((line) => pattern.exec(line) ?? undefined, String(pattern), WAIT_MS);
}

/** npm start's exit code, bounded by WAIT_MS. */
function exitCode(run: NodeProcess): Promise<number | string> {
  return within(run.exited, WAIT_MS, `npm start to exit\nstdout:\n${run.stdout()}\nstderr:\n${run.stderr()}`);
}

/** A server holding a port, so whatever is told to listen there fails. */
async function occupiedPort(t: TestContext): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as net.AddressInfo).port;
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
  const dir = await scratchDir(t, 'tor-start-');
  await fs.writeFile(path.join(dir, 'hello.txt'), 'hi');
  const torPort = await freePort();
  const gatewayPort = await freePort();

  const [torMetricsPort, gatewayMetricsPort] = [await freePort(), await freePort()];
  const metricsArgs = ['--tor-metrics-port', String(torMetricsPort), '--gateway-metrics-port', String(gatewayMetricsPort)];
  const run = startRun(t, ['--tor-port', String(torPort), '--gateway-port', String(gatewayPort), '--dir', dir, '--host', '127.0.0.1', ...metricsArgs]);
  await sees(run, new RegExp(`open http://127\\.0\\.0\\.1:${gatewayPort} in your browser`));
  const torMetrics = `http://127.0.0.1:${torMetricsPort}/metrics`;
  const gatewayMetrics = `http://127.0.0.1:${gatewayMetricsPort}/metrics`;
  assert.ok(run.stdout().includes(`Prometheus metrics: tor-server ${torMetrics}, gateway ${gatewayMetrics}\n`), run.stdout());
  assert.match(await (await fetch(torMetrics)).text(), /^tor_server_watchers 0$/m);
  assert.match(await (await fetch(gatewayMetrics)).text(), /^tor_gateway_websocket_sessions 0$/m);
  assert.match(run.stdout(), new RegExp(`tor-server listening on 127\\.0\\.0\\.1:${torPort}, serving ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.match(run.stdout(), new RegExp(`tor-gateway listening on http://127\\.0\\.0\\.1:${gatewayPort} `));

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
  assert.equal(await exitCode(run), 0, run.stderr());
  assert.match(run.stdout(), /SIGINT: stopping the tor-server and the gateway\n/);
  assert.equal(await accepts(torPort), false, 'the tor-server is stopped');
  assert.equal(await accepts(gatewayPort), false, 'the gateway is stopped');
});

test('an unknown option or a bad port exits 2 with the usage, starting nothing', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  for (const args of [['--port', '7778'], ['--tor-port', 'seven'], ['--gateway-port', '70000'], ['extra']]) {
    const run = startRun(t, args);
    assert.equal(await exitCode(run), 2, `${args.join(' ')}: ${run.stderr()}`);
    assert.match(run.stderr(), /^npm start: .+\n\nUsage: npm start -- \[options\]/, args.join(' '));
    assert.doesNotMatch(run.stdout(), /listening/);
  }
  const help = startRun(t, ['--help']);
  assert.equal(await exitCode(help), 0);
  assert.match(help.stdout(), /^Usage: npm start -- \[options\]\n[\s\S]*--dir DIR[\s\S]*--tor-port PORT[\s\S]*--gateway-port PORT[\s\S]*--host HOST/);
});

test('a tor-server that cannot start is reported in a whole sentence', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const dir = await scratchDir(t, 'tor-start-');
  const run = startRun(t, ['--tor-port', String(await occupiedPort(t)), '--host', '127.0.0.1', '--dir', dir]);
  assert.equal(await exitCode(run), 1);
  assert.match(run.stderr(), /\[start\] tor-server died \(exit code 1\); nothing else was running\n/);
});

test('a gateway that cannot start stops the tor-server, and says so', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const dir = await scratchDir(t, 'tor-start-');
  const torPort = await freePort();
  const run = startRun(t, ['--tor-port', String(torPort), '--gateway-port', String(await occupiedPort(t)), '--host', '127.0.0.1', '--dir', dir]);
  assert.equal(await exitCode(run), 1);
  assert.match(run.stderr(), /\[start\] gateway died \(exit code 1\); stopping the tor-server\n/);
  assert.equal(await accepts(torPort), false, 'the tor-server is stopped');
});
