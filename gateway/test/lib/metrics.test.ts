import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { eventually, freePort, scrape, within, WAIT_MS, type Owner } from 'test-support';
import { listenForMetrics } from 'tor-server/options';
import { listen, startApp, startStack, WsProbe, type TestApp } from '../helpers.js';

const SIZE = 200_000;
const FILE_ROUTE = '/api/files/:name';

/** Serves the app's registry the way main.ts does, on 127.0.0.1 and a free port; closed when the test ends. */
async function metricsUrl(t: Owner, app: TestApp): Promise<string> {
  const listener = await listenForMetrics(app.metrics.registry, { host: '127.0.0.1', port: 0 });
  t.after(() => listener.close());
  return `http://127.0.0.1:${listener.address().port}/metrics`;
}

/** An HTTP client that keeps every socket it used, to count the bytes that went over them. */
class CountingClient {
  readonly #sockets: Socket[] = [];
  readonly #base: URL;

  constructor(base: string) {
    this.#base = new URL(base);
  }

  /** One request on a fresh connection (closed after it); resolves with the status and body. */
  async request(method: string, path: string, options: { body?: Buffer; headers?: Record<string, string> } = {}): Promise<{ status: number; body: Buffer }> {
    const request = http.request({ host: this.#base.hostname, port: this.#base.port, method, path, agent: false, headers: { connection: 'close', ...options.headers } });
    request.on('socket', (socket) => this.#sockets.push(socket));
    request.end(options.body);
    const [response] = (await within(once(request, 'response'), WAIT_MS, `${method} ${path}`)) as [http.IncomingMessage];
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    return { status: response.statusCode!, body: Buffer.concat(chunks) };
  }

  /** Bytes written and read over all its sockets, once every one has closed. */
  async totals(): Promise<{ written: number; read: number }> {
    await eventually(() => this.#sockets.every((socket) => socket.destroyed), 'the client sockets to close');
    return { written: this.#sockets.reduce((sum, s) => sum + s.bytesWritten, 0), read: this.#sockets.reduce((sum, s) => sum + s.bytesRead, 0) };
  }
}

describe('gateway metrics', () => {
  it('move by exactly the requests, bytes and transfers of a known session, on the gateway and the tor-server', async (t) => {
    const { app, server } = await startStack(t, { tor: { metricsPort: 0 } });
    const gatewayMetrics = await metricsUrl(t, app);
    const torMetrics = `http://127.0.0.1:${server.metricsAddress()!.port}/metrics`;
    const client = new CountingClient(await listen(app));
    const data = Buffer.alloc(SIZE, 7);
    const [gatewayBefore, torBefore] = await Promise.all([scrape(gatewayMetrics), scrape(torMetrics)]);

    assert.equal((await client.request('PUT', '/api/files/a.bin', { body: data })).status, 201);
    assert.equal((await client.request('PUT', '/api/files/a.bin', { body: data })).status, 409);
    for (let i = 0; i < 2; i++) assert.deepEqual(await client.request('GET', '/api/files/a.bin'), { status: 200, body: data });
    assert.deepEqual(await client.request('GET', '/api/files/a.bin', { headers: { range: 'bytes=10-29' } }), { status: 206, body: data.subarray(10, 30) });
    const { written, read } = await client.totals();

    const [gateway, tor] = await Promise.all([scrape(gatewayMetrics), scrape(torMetrics)]);
    const count = (method: string, status: number) => `tor_gateway_http_request_duration_seconds_count{method="${method}",route="${FILE_ROUTE}",status="${status}"}`;
    assert.deepEqual(Object.fromEntries(gateway.movedSince(gatewayBefore, /_count\{|_bytes_total/)), {
      [count('PUT', 201)]: 1,
      [count('PUT', 409)]: 1,
      [count('GET', 200)]: 2,
      [count('GET', 206)]: 1,
      tor_gateway_http_received_bytes_total: written,
      tor_gateway_http_sent_bytes_total: read,
    });
    assert.equal(gateway.value('tor_gateway_transfers_in_progress{direction="upload"}'), 0);
    assert.equal(gateway.value('tor_gateway_transfers_in_progress{direction="download"}'), 0);
    assert.ok(gateway.value('tor_gateway_upstream_connections') >= 1);
    assert.equal(gateway.value('tor_gateway_upstream_waiters'), 0);

    assert.equal(tor.value('tor_server_received_bytes_total') - torBefore.value('tor_server_received_bytes_total'), SIZE);
    assert.equal(tor.value('tor_server_sent_bytes_total') - torBefore.value('tor_server_sent_bytes_total'), 2 * SIZE + 20);
    assert.equal(tor.value('tor_server_commands_total{command="upload",result="ok"}'), 1);
    assert.equal(tor.value('tor_server_uploads_refused_total{reason="file-exists"}'), 1);
  });

  it('count a transfer in progress while its response is open', async (t) => {
    const { app } = await startStack(t);
    const url = await metricsUrl(t, app);
    const base = new URL(await listen(app));
    // Announces more than it sends: the upload stays under way until the socket closes.
    const request = http.request({ host: base.hostname, port: base.port, method: 'PUT', path: '/api/files/slow.bin', agent: false, headers: { 'content-length': '1000' } });
    request.on('error', () => {});
    request.write(Buffer.alloc(10));
    t.after(() => request.destroy());
    await eventually(async () => (await scrape(url)).value('tor_gateway_transfers_in_progress{direction="upload"}') === 1, 'the upload counted');
    request.destroy();
    await eventually(async () => (await scrape(url)).value('tor_gateway_transfers_in_progress{direction="upload"}') === 0, 'the upload no longer counted');
  });

  it('show WebSocket sessions while they are open', async (t) => {
    const { app } = await startStack(t);
    const url = await metricsUrl(t, app);
    const probe = await WsProbe.open(t, await listen(app));
    await eventually(async () => (await scrape(url)).value('tor_gateway_websocket_sessions') === 1, 'one session');
    await probe.close();
    await eventually(async () => (await scrape(url)).value('tor_gateway_websocket_sessions') === 0, 'no session');
  });

  it('count an unreachable tor-server as an upstream error', async (t) => {
    const app = await startApp(t, await freePort());
    const url = await metricsUrl(t, app);
    const base = await listen(app);
    assert.equal((await fetch(`${base}/api/files`)).status, 503);
    const after = await scrape(url);
    assert.equal(after.value('tor_gateway_upstream_errors_total{code="GW_ERR_UPSTREAM_UNREACHABLE"}'), 1);
    assert.ok(after.value('tor_gateway_upstream_connections_lost_total') >= 1);
  });

  it('are not served on the gateway port, whatever Host it is asked with', async (t) => {
    const { app } = await startStack(t);
    const base = await listen(app);
    for (const host of [new URL(base).host, 'localhost']) {
      const response = await fetch(`${base}/metrics`, { headers: { host } });
      assert.doesNotMatch(response.headers.get('content-type') ?? '', /version=0\.0\.4/);
      assert.doesNotMatch(await response.text(), /tor_gateway_/);
    }
  });
});
