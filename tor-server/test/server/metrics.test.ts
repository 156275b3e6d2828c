import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually, scrape } from 'test-support';
import { ErrorKind, Reply, errorReply } from '../../src/protocol/constants.js';
import { ConfigError, parseServerConfig } from '../../src/server/index.js';
import { LineClient, patternBytes, startServer } from '../helpers.js';

const SIZE = 100_000;
const RANGE = { offset: 10, length: 20 };

describe('metrics', () => {
  it('count exactly the commands, results, bytes and refused uploads a known session caused', async (t) => {
    const { server, port } = await startServer(t, { metricsPort: 0, maxFileSize: 2 * SIZE });
    const url = `http://127.0.0.1:${server.metricsAddress()!.port}/metrics`;
    const before = await scrape(url);
    const data = patternBytes(SIZE);

    const client = await LineClient.connect(t, port);
    assert.deepEqual(await client.upload('a.bin', data), [Reply.OK, Reply.OK, Reply.END]);
    assert.deepEqual(await client.upload('a.bin', data), [errorReply(ErrorKind.FILE_EXISTS, 'a.bin')]);
    assert.deepEqual(await client.upload('big.bin', Buffer.alloc(3 * SIZE)), [Reply.OK, errorReply(ErrorKind.TOO_LARGE, `${3 * SIZE} bytes, the limit is ${2 * SIZE} bytes`)]);
    assert.deepEqual(await client.download('download a.bin'), data);
    assert.deepEqual(await client.download('download a.bin'), data);
    assert.deepEqual(await client.download(`range ${RANGE.offset} ${RANGE.length} a.bin`), data.subarray(RANGE.offset, RANGE.offset + RANGE.length));
    assert.deepEqual([await client.request('download nothing.bin'), await client.line()], [Reply.OK, Reply.NOT_FOUND]);
    assert.equal(await client.request('GET /metrics HTTP/1.1'), Reply.UNKNOWN);

    const after = await scrape(url);
    assert.deepEqual(
      Object.fromEntries(after.movedSince(before, /^tor_server_(commands|uploads_refused|received_bytes|sent_bytes|connections_accepted)/)),
      {
        'tor_server_connections_accepted_total': 1,
        'tor_server_commands_total{command="upload",result="ok"}': 1,
        'tor_server_commands_total{command="upload",result="file-exists"}': 1,
        'tor_server_commands_total{command="upload",result="too-large"}': 1,
        'tor_server_commands_total{command="download",result="ok"}': 2,
        'tor_server_commands_total{command="download",result="not-found"}': 1,
        'tor_server_commands_total{command="range",result="ok"}': 1,
        'tor_server_commands_total{command="unknown",result="unknown"}': 1,
        'tor_server_uploads_refused_total{reason="file-exists"}': 1,
        'tor_server_uploads_refused_total{reason="too-large"}': 1,
        'tor_server_received_bytes_total': SIZE,
        'tor_server_sent_bytes_total': 2 * SIZE + RANGE.length,
      },
    );
    assert.equal(after.value('tor_server_connections{state="idle"}'), 1);
    assert.equal(after.value('tor_server_transfers_in_progress{direction="upload"}'), 0);
    assert.ok(after.value('tor_server_store_free_bytes') > 0, 'the free bytes are the store folder\'s');
  });

  it('show watchers and connections by state while they last', async (t) => {
    const { server, port } = await startServer(t, { metricsPort: 0 });
    const url = `http://127.0.0.1:${server.metricsAddress()!.port}/metrics`;
    const watcher = await LineClient.connect(t, port);
    assert.equal(await watcher.request('watch'), Reply.OK);
    assert.match(await watcher.line(), /^watching \d+$/);
    const watching = await scrape(url);
    assert.equal(watching.value('tor_server_watchers'), 1);
    assert.equal(watching.value('tor_server_connections{state="watching"}'), 1);

    const uploader = await LineClient.connect(t, port, '127.0.0.2');
    assert.equal(await uploader.request('upload slow.bin'), Reply.OK);
    assert.equal(await uploader.request('1000'), Reply.OK);
    uploader.send(Buffer.alloc(10));
    const uploading = await eventually(async () => {
      const now = await scrape(url);
      return now.value('tor_server_received_bytes_total') === 10 && now;
    }, 'the first 10 bytes counted');
    assert.equal(uploading.value('tor_server_transfers_in_progress{direction="upload"}'), 1);
    assert.equal(uploading.value('tor_server_connections{state="uploading"}'), 1);

    uploader.destroy();
    assert.equal(await watcher.request('exit'), Reply.EXIT);
    const gone = await eventually(async () => {
      const now = await scrape(url);
      return now.value('tor_server_watchers') === 0 && now.value('tor_server_commands_total{command="upload",result="cut"}') === 1 && now;
    }, 'the watcher and the upload gone');
    assert.equal(gone.value('tor_server_transfers_in_progress{direction="upload"}'), 0);
    assert.equal(gone.value('tor_server_commands_total{command="watch",result="closed"}'), 1);
  });

  it('are served at /metrics only, on 127.0.0.1 by default, and not at all without a metrics port', async (t) => {
    const { server } = await startServer(t, { metricsPort: 0 });
    const address = server.metricsAddress()!;
    assert.equal(address.address, '127.0.0.1');
    const base = `http://127.0.0.1:${address.port}`;
    const other = await fetch(`${base}/`);
    assert.equal(other.status, 404);
    assert.equal(await other.text(), 'not found: the metrics are at /metrics\n');
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
    const metrics = await fetch(`${base}/metrics`);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(await metrics.text(), /^# HELP tor_server_/m);

    const { server: quiet } = await startServer(t);
    assert.equal(quiet.metricsAddress(), undefined);
  });

  it('take --metrics-port and --metrics-host, and refuse a bad port naming the flag', () => {
    const config = parseServerConfig(['--metrics-port', '9777'], {});
    assert.ok(config !== 'help');
    assert.equal(config.metricsPort, 9777);
    assert.equal(config.metricsHost, '127.0.0.1');
    const off = parseServerConfig([], {});
    assert.ok(off !== 'help');
    assert.equal(off.metricsPort, undefined);
    const fromEnv = parseServerConfig([], { TOR_METRICS_PORT: '9100', TOR_METRICS_HOST: '0.0.0.0' });
    assert.ok(fromEnv !== 'help');
    assert.deepEqual([fromEnv.metricsPort, fromEnv.metricsHost], [9100, '0.0.0.0']);
    assert.throws(() => parseServerConfig(['--metrics-port', 'x'], {}), (error: unknown) => error instanceof ConfigError && error.message === '--metrics-port (TOR_METRICS_PORT): "x" is not a valid value');
  });
});
