import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { scratchDir, startTorServer, withTimeout } from './helpers.js';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

test('tor-gateway --port 0 prints one listening line, serves, and exits 0 on SIGTERM', async (t) => {
  const { port: torPort } = await startTorServer(t);
  const webDir = await scratchDir(t);
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--host', '127.0.0.1', '--port', '0', '--tor-port', String(torPort), '--web-dir', webDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
  await withTimeout(
    new Promise<void>((resolve) => child.stdout!.once('data', () => setImmediate(resolve))),
    15_000,
    'the listening line',
  );
  const first = lines[0] ?? '';
  const match = /^tor-gateway listening on http:\/\/127\.0\.0\.1:(\d+) \(tor-server 127\.0\.0\.1:(\d+)\)$/.exec(first);
  assert.ok(match, first);
  assert.equal(Number(match[2]), torPort);

  const health = await fetch(`http://127.0.0.1:${match[1]}/api/health`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { gateway: 'ok', upstream: 'ok' });

  child.kill('SIGTERM');
  const [code] = await withTimeout(once(child, 'exit'), 10_000, 'the gateway to exit');
  assert.equal(code, 0);
  assert.deepEqual(lines, [first], 'the listening line is all it prints at the default log level');
});

test('a bad flag exits 2 with the problem and the usage', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--port', 'eighty'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const [code] = await withTimeout(once(child, 'exit'), 15_000, 'the gateway to exit');
  assert.equal(code, 2);
  assert.match(stderr, /--port \(GATEWAY_PORT\): "eighty"/);
  assert.match(stderr, /Usage: tor-gateway/);
});
