import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { eventually, within } from 'test-support';
import { WsProbe, listen, replyOf, startApp, startTorServer } from '../helpers.js';

const MAX_UPSTREAM = 4;
const POOL = 2;
const HELD = 6;
// Longer than the answers are allowed to take below: a listing stuck behind the downloads would time out there first.
// The held downloads' tor-server connections, silent while nobody reads, are not cut before then either: a
// WebSocket waiting for a slot that only their end would free must show as a timeout, not as a slow answer.
const QUEUE_TIMEOUT_MS = 25_000;
const PROMPT_MS = 10_000;

/** Starts a GET that never reads its body; resolves with the request (its response, once headers came, is paused). */
function holdDownload(url: string, held: http.ClientRequest[]): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false }, (response) => {
      response.pause();
      resolve(response);
    });
    held.push(request);
    request.on('error', reject);
  });
}

test('downloads that hold every transfer connection (and more waiting in line) leave listings and WebSocket shows answered at once', { timeout: 30_000 }, async (t) => {
  const { dir, port } = await startTorServer(t);
  // Sparse: large enough that no socket buffer takes it whole, nothing on disk.
  await fs.writeFile(path.join(dir, 'notes.txt'), 'hello');
  const handle = await fs.open(path.join(dir, 'huge.bin'), 'w');
  await handle.truncate(1024 ** 3);
  await handle.close();
  const app = await startApp(t, port, { maxUpstream: MAX_UPSTREAM, upstreamPool: POOL, upstreamQueueTimeoutMs: QUEUE_TIMEOUT_MS, upstreamReplyTimeoutMs: QUEUE_TIMEOUT_MS });
  const base = await listen(app);
  const held: http.ClientRequest[] = [];
  t.after(() => held.forEach((request) => request.destroy()));

  // A listing first, as a browser opening the page makes: the pool now has an idle connection.
  assert.equal((await fetch(`${base}/api/files`)).status, 200);
  const transfers = app.upstream.transferSlots;
  assert.equal(transfers, MAX_UPSTREAM - POOL);
  for (let i = 0; i < transfers; i++) await within(holdDownload(`${base}/api/files/huge.bin`, held), 5000, `download ${i + 1} to start`);
  for (let i = transfers; i < HELD; i++) void holdDownload(`${base}/api/files/huge.bin`, held).catch(() => {});
  await eventually(() => app.upstream.queuedCount === HELD - transfers, `${HELD - transfers} downloads to wait in line`);

  const listing = await within(fetch(`${base}/api/files`), PROMPT_MS, 'the listing');
  assert.equal(listing.status, 200);
  assert.deepEqual(((await listing.json()) as { name: string }[]).map((file) => file.name), ['huge.bin', 'notes.txt']);
  const probe = await WsProbe.open(t, base);
  assert.deepEqual(await probe.next(undefined, PROMPT_MS), { event: 'upstream', connected: true });
  probe.send({ id: 1, command: 'show' });
  const reply = replyOf(await probe.next((m) => 'id' in m, PROMPT_MS));
  assert.equal(reply.ok && reply.files.length, 2);
  assert.equal(app.changeFeed.connectionCount, 1, "the change feed holds its connection: an idle pooled one's slot");
  assert.equal(app.upstream.queuedCount, HELD - transfers, 'the downloads still wait: the pool took no slot of theirs');
});
