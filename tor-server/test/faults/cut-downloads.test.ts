import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { eventually, scratchDir, sha256, spawnTorServer } from 'test-support';
import { TftcpClient } from '../../src/client/tftcp-client.js';
import { patternBytes } from '../helpers.js';
import { loggedClients } from './server-log.js';

// Long enough that the cutters run thousands of cycles; the crash this guards against came within seconds.
const CUT_FOR_MS = Number(process.env.CUT_FOR_MS ?? 20_000);
const CUTTERS = 4;

async function fdCount(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

/** Asks for the whole file, reads about 64 KB of it, then resets the connection (SO_LINGER 0). */
function cutOnce(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let received = 0;
    socket.on('error', () => {});
    socket.on('close', () => resolve());
    socket.on('connect', () => socket.write('download big.bin\n'));
    socket.on('data', (chunk) => {
      received += chunk.length;
      if (received >= 64 * 1024) socket.resetAndDestroy();
    });
  });
}

test('downloads cut by resets, over and over, leave the server serving with no leaked descriptor', { timeout: CUT_FOR_MS + 60_000 }, async (t: TestContext) => {
  const dir = await scratchDir(t);
  const big = patternBytes(64 * 1024 * 1024, 3);
  await writeFile(path.join(dir, 'big.bin'), big);
  const server = await spawnTorServer(t, { dir });
  const pid = server.child.pid!;
  const baseline = await fdCount(pid);

  const until = Date.now() + CUT_FOR_MS;
  let cycles = 0;
  await Promise.all(
    Array.from({ length: CUTTERS }, async () => {
      while (Date.now() < until && server.child.exitCode === null) {
        await cutOnce(server.port);
        cycles++;
      }
    }),
  );
  assert.equal(server.child.exitCode, null, `the server died after ${cycles} cut downloads:\n${server.stderr().slice(-2000)}`);
  assert.ok(cycles > 20, `only ${cycles} cut downloads ran`);

  const client = await TftcpClient.connect({ host: '127.0.0.1', port: server.port });
  const incoming = await client.download('big.bin');
  const hash = createHash('sha256');
  for await (const chunk of incoming.stream) hash.update(chunk);
  assert.equal(hash.digest('hex'), sha256(big), 'a full download after the storm has identical bytes');
  await client.exit();

  await eventually(() => loggedClients(server) === 0, 'no client online');
  await eventually(async () => (await fdCount(pid)) <= baseline, `file descriptors back to ${baseline}`, 10_000);
});
