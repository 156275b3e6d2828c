import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runNode, scrape, spawnGateway, spawnTorServer, scratchDir, GATEWAY_SOURCE } from 'test-support';
import { parseMetricsListening } from 'tor-server/options';
import { startTorServer } from './helpers.js';

test('tor-gateway and tor-server --metrics-port 0 print where their metrics are, served on 127.0.0.1', async (t) => {
  const tor = await spawnTorServer(t, { dir: await scratchDir(t), args: ['--metrics-port', '0'] });
  const torMetrics = await tor.firstLine((line) => parseMetricsListening(line), 'the tor-server metrics line');
  assert.equal(torMetrics.program, 'tor-server');
  assert.match(torMetrics.url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  assert.ok((await scrape(torMetrics.url)).has('tor_server_watchers'));

  const gateway = await spawnGateway(t, { torPort: tor.port, fromSource: true, args: ['--metrics-port', '0'] });
  const gatewayMetrics = await gateway.firstLine((line) => parseMetricsListening(line), 'the gateway metrics line');
  assert.equal(gatewayMetrics.program, 'tor-gateway');
  assert.match(gatewayMetrics.url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  assert.equal((await fetch(`${gateway.url}/api/health`)).status, 200);
  const scraped = await scrape(gatewayMetrics.url);
  assert.equal(scraped.value('tor_gateway_http_request_duration_seconds_count{method="GET",route="/api/health",status="200"}'), 1);
});

test('a bad --metrics-port exits 2 naming the flag, a taken one exits 1 saying which port', async (t) => {
  const bad = await runNode(t, GATEWAY_SOURCE, { nodeFlags: ['--import', 'tsx'], args: ['--metrics-port', 'ninety'], ms: 15_000 });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--metrics-port \(GATEWAY_METRICS_PORT\): "ninety" is not a valid value/);

  const { port: torPort } = await startTorServer(t);
  const taken = await runNode(t, GATEWAY_SOURCE, { nodeFlags: ['--import', 'tsx'], args: ['--port', '0', '--tor-port', String(torPort), '--metrics-port', String(torPort), '--metrics-host', '127.0.0.1'], ms: 15_000 });
  assert.equal(taken.code, 1);
  assert.match(taken.stderr, new RegExp(`^tor-gateway: metrics: port ${torPort} on 127\\.0\\.0\\.1 is already in use\\. Stop the other server or choose another port with --metrics-port\\.`));
});
