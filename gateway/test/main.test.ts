import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseListening, runNode, spawnGateway, within, GATEWAY_SOURCE } from 'test-support';
import { startTorServer } from './helpers.js';

test('tor-gateway --port 0 prints one listening line, serves, and exits 0 on SIGTERM', async (t) => {
  const { port: torPort } = await startTorServer(t);
  const gateway = await spawnGateway(t, { torPort, fromSource: true });
  const first = gateway.lines()[0] ?? '';
  assert.deepEqual(parseListening(first), { program: 'tor-gateway', url: `http://127.0.0.1:${gateway.port}`, host: '127.0.0.1', port: gateway.port, torHost: '127.0.0.1', torPort }, first);

  const health = await fetch(`${gateway.url}/api/health`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { gateway: 'ok', upstream: 'ok' });

  gateway.child.kill('SIGTERM');
  assert.equal(await within(gateway.exited, 10_000, 'the gateway to exit'), 0);
  assert.deepEqual(gateway.lines(), [first], 'the listening line is all it prints at the default log level');
});

test('a bad flag exits 2 with the problem and the usage', async (t) => {
  const { code, stderr } = await runNode(t, GATEWAY_SOURCE, { nodeFlags: ['--import', 'tsx'], args: ['--port', 'eighty'], ms: 15_000 });
  assert.equal(code, 2);
  assert.match(stderr, /--port \(GATEWAY_PORT\): "eighty"/);
  assert.match(stderr, /Usage: tor-gateway/);
});
