import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TftcpClient } from 'tor-server/client';
import { DEFAULT_MAX_IDLE } from '../../src/lib/transfer-pool.js';
import { startStack } from '../helpers.js';

const SMALL = Buffer.alloc(4096, 5);
// As many transfers at once as one client address may have by default.
const AT_ONCE = 16;

test('16 transfers at once leave their 16 clean connections idle, and the next 16 open none', async (t) => {
  const { server, app } = await startStack(t, { files: { 'small.bin': SMALL } });
  assert.ok(DEFAULT_MAX_IDLE >= AT_ONCE);
  /** Starts AT_ONCE downloads together, then reads each to its end and gives its connection back. */
  const round = async (): Promise<TftcpClient[]> => {
    const leases = await Promise.all(Array.from({ length: AT_ONCE }, () => app.transferPool.start((client) => client.download('small.bin'))));
    for (const { client, result } of leases) {
      const chunks: Buffer[] = [];
      for await (const chunk of result.stream) chunks.push(chunk as Buffer);
      assert.deepEqual(Buffer.concat(chunks), SMALL);
      app.transferPool.finish(client);
    }
    return leases.map((lease) => lease.client);
  };
  const first = await round();
  assert.equal(new Set(first).size, AT_ONCE);
  assert.equal(app.transferPool.idleCount, AT_ONCE, 'every clean connection is kept for the next transfer');
  const opened = server.connections.size;
  const second = await round();
  assert.deepEqual(new Set(second), new Set(first), 'the second round ran on the first round’s connections');
  assert.equal(server.connections.size, opened);
});
