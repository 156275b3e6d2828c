import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it, type TestContext } from 'node:test';
import { eventually } from 'test-support';
import { Reply } from '../../src/protocol/constants.js';
import { LineClient, memoryLogger, patternBytes, startServer, tempFolderEmpty, visibleNames } from '../helpers.js';

/** Sends `bytes` bytes every `everyMs` until the connection ends: always some progress, never a stall. */
function trickle(t: TestContext, client: LineClient, bytes: number, everyMs: number): void {
  const timer = setInterval(() => {
    if (!client.ended) client.send(Buffer.alloc(bytes, 0x61));
  }, everyMs);
  t.after(() => clearInterval(timer));
}

describe('minimum transfer rate', () => {
  it('an upload that trickles a byte at a time, never stalling, is cut after one window and leaves nothing behind', async (t) => {
    const log = memoryLogger('warn');
    const { port, dir, server } = await startServer(t, { stallTimeoutMs: 1000, minTransferBytes: 64 * 1024, logger: log.logger });
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('upload trickle.bin'), Reply.OK);
    assert.equal(await client.request(String(1024 * 1024)), Reply.OK);
    trickle(t, client, 1, 100);
    // Mid-transfer no reply line can be framed: the connection just ends.
    assert.equal(await client.rest(), '');
    await eventually(() => server.connections.size === 0, 'the trickling uploader is gone');
    await tempFolderEmpty(dir);
    assert.deepEqual(await visibleNames(dir), []);
    assert.match(log.text(), / warn transfer-too-slow client=127\.0\.0\.1:\d+ direction=upload name=trickle\.bin bytes=\d+ window=1s min=65536\n/);
    assert.doesNotMatch(log.text(), /transfer-stalled/);
    // The name is free again.
    const next = await LineClient.connect(t, port);
    assert.deepEqual(await next.upload('trickle.bin', Buffer.from('whole')), [Reply.OK, Reply.OK, Reply.END]);
  });

  it('a download read slowly, never stalling, is cut after one window', async (t) => {
    const log = memoryLogger('warn');
    const { port, dir, server } = await startServer(t, { stallTimeoutMs: 1000, minTransferBytes: 32 * 1024 * 1024, logger: log.logger });
    const size = 64 * 1024 * 1024;
    await writeFile(path.join(dir, 'big.bin'), Buffer.alloc(size, 1));
    const client = await LineClient.connect(t, port);
    client.send('download big.bin\n');
    assert.deepEqual(await client.lines(3), [Reply.OK, Reply.FOUND, String(size)]);
    // A reader that takes a chunk every 50 ms: the server always makes some progress, at most ~1.3 MB/s.
    let received = 0;
    const slowReader = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _encoding, done) {
        received += chunk.length;
        setTimeout(done, 50);
      },
    });
    void pipeline(client.socket, slowReader).catch(() => {});
    await eventually(() => server.connections.size === 0, 'the slow downloader is gone');
    assert.match(log.text(), / warn transfer-too-slow client=\S+ direction=download name=big\.bin bytes=\d+ window=1s min=33554432\n/);
    assert.ok(received < size, `got ${received} of ${size} bytes`);
    // What the kernel still buffers would take seconds to read at this pace.
    client.destroy();
  });

  it('a transfer slow but above the minimum completes', async (t) => {
    const { port, dir } = await startServer(t, { stallTimeoutMs: 300, minTransferBytes: 1024 });
    const data = patternBytes(256 * 1024, 3);
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('upload steady.bin'), Reply.OK);
    assert.equal(await client.request(String(data.length)), Reply.OK);
    // 16 KiB every 50 ms: over a second in all, many windows, each far above 1 KiB.
    let offset = 0;
    const timer = setInterval(() => {
      client.send(data.subarray(offset, offset + 16 * 1024));
      offset += 16 * 1024;
      if (offset >= data.length) clearInterval(timer);
    }, 50);
    t.after(() => clearInterval(timer));
    assert.equal(await client.line(), Reply.END);
    assert.deepEqual(await visibleNames(dir), ['steady.bin']);
  });
});
