import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { eventually, scratchDir, sha256, spawnTorServer, within } from 'test-support';
import { TOR_SERVER_UNDER_TEST, fetchHash, listen, startApp, transferConnections } from '../helpers.js';

const FILE_BYTES = 64 * 1024 * 1024;
const PARALLEL = 8;
const ROUNDS_FOR_MS = 10_000;
// Each download is cut after its first 64 KiB or 200 ms, whichever comes first (curl -m 0.2).
const CUT_AFTER_BYTES = 64 * 1024;
const CUT_AFTER_MS = 200;

/** GETs `url` and cuts the connection early; resolves with the bytes that arrived. */
function cutDownload(url: string): Promise<number> {
  return new Promise((resolve) => {
    let received = 0;
    const request = http.get(url, { agent: false }, (response) => {
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received >= CUT_AFTER_BYTES) cut();
      });
      response.on('error', () => {});
    });
    const timer = setTimeout(() => cut(), CUT_AFTER_MS);
    const cut = () => {
      clearTimeout(timer);
      request.destroy();
    };
    request.on('error', () => {});
    request.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
  });
}

test('8 parallel downloads through the gateway cut after their first bytes, over and over: the tor-server lives, bytes stay right, no connection is left', { timeout: 60_000 }, async (t) => {
  const dir = await scratchDir(t);
  const data = randomBytes(FILE_BYTES);
  await fs.writeFile(path.join(dir, 'big.bin'), data);
  const tor = await spawnTorServer(t, { dir, bin: TOR_SERVER_UNDER_TEST });
  const app = await startApp(t, tor.port);
  const base = await listen(app);
  const url = `${base}/api/files/big.bin`;
  const baseline = transferConnections(app);

  let cuts = 0;
  const until = Date.now() + ROUNDS_FOR_MS;
  while (Date.now() < until && tor.child.exitCode === null) {
    await within(Promise.all(Array.from({ length: PARALLEL }, () => cutDownload(url))), 10_000, 'a round of cut downloads');
    cuts += PARALLEL;
  }
  assert.ok(cuts >= PARALLEL);
  assert.equal(tor.child.exitCode, null, `the tor-server died after ${cuts} cut downloads`);
  assert.equal(tor.child.signalCode, null);

  const full = await within(fetchHash(url), 30_000, 'a full download');
  assert.equal(full.status, 200);
  assert.equal(full.hash, sha256(data));
  await eventually(() => transferConnections(app) === baseline, `the gateway's transfer connections to return to ${baseline} (has ${transferConnections(app)})`);
  assert.equal(app.upstream.queuedCount, 0);
});
