import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { eventually, scratchDir, sha256, spawnTorServer } from 'test-support';
import { TftcpClient } from '../../src/client/tftcp-client.js';
import { patternBytes } from '../helpers.js';
import { loggedClients } from './server-log.js';

test('500 concurrent TFTCP connections all complete, bytes verified, none refused', async (t) => {
  const dir = await scratchDir(t);
  const shared = patternBytes(256 * 1024, 21);
  await writeFile(path.join(dir, 'shared.bin'), shared);
  // All 500 come from 127.0.0.1: lift the per-address limit, which is there for exactly such a crowd.
  const server = await spawnTorServer(t, { dir, args: ['--max-clients-per-address', '500'] });
  const port = server.port;

  // Open all 500 first, so they are truly online at the same time.
  const clients = await Promise.all(Array.from({ length: 500 }, () => TftcpClient.connect({ host: '127.0.0.1', port })));
  t.after(() => clients.forEach((c) => c.destroy()));
  await eventually(() => loggedClients(server) === 500, 'the server counts 500 clients online', 15_000);

  const results = await Promise.allSettled(
    clients.map(async (client, i) => {
      const own = patternBytes(8 * 1024 + i, i + 100);
      await client.upload(`own-${i}.bin`, own.length, [own]);
      for (const [name, expected] of [[`own-${i}.bin`, own], ['shared.bin', shared]] as const) {
        const { stream } = await client.download(name);
        const chunks: Buffer[] = [];
        for await (const chunk of stream) chunks.push(chunk as Buffer);
        assert.equal(sha256(Buffer.concat(chunks)), sha256(expected), `${name} for client ${i}`);
      }
      await client.exit();
    }),
  );
  const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [`client ${i}: ${(r.reason as Error).message}`] : []));
  assert.deepEqual(failures.slice(0, 5), []);
  assert.doesNotMatch(server.stdout(), /Too many clients/);
  await eventually(() => loggedClients(server) === 0, 'every client signed out', 15_000);
});
