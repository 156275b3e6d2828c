import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import WebSocket from 'ws';
import { eventually, scratchDir, spawnGateway, spawnTorServer, within } from 'test-support';
import type { WsServerMessage } from '../../src/api/index.js';
import { TOR_SERVER_UNDER_TEST, WsProbe, replyOf } from '../helpers.js';

const FILES = 10_000;
const RSS_LIMIT = 250 * 1024 * 1024;
const FLOOD_FOR_MS = 15_000;
// The flood keeps at most this much unsent on its own side, topping it up as it goes out.
const CLIENT_BACKLOG_BYTES = 256 * 1024;
const BATCH = 100;

test('a WebSocket client that sends show over and over but never reads is no longer read either: the gateway stays small, others are still served, and its answers come in order once it reads', { timeout: 60_000 }, async (t) => {
  const dir = await scratchDir(t);
  for (let i = 0; i < FILES; i += 500) {
    await Promise.all(Array.from({ length: 500 }, (_, j) => fs.writeFile(path.join(dir, `file-${String(i + j).padStart(5, '0')}.txt`), '')));
  }
  const tor = await spawnTorServer(t, { dir, bin: TOR_SERVER_UNDER_TEST });
  const gateway = await spawnGateway(t, { torPort: tor.port, fromSource: true });
  const reader = await WsProbe.open(t, gateway.url);
  await reader.next();

  const slow = new WebSocket(`${gateway.url.replace(/^http/, 'ws')}/api/ws`);
  t.after(() => slow.terminate());
  const received: WsServerMessage[] = [];
  slow.on('message', (data) => received.push(JSON.parse(String(data)) as WsServerMessage));
  await within(once(slow, 'open'), 5000, 'the slow socket to open');
  await eventually(() => received.length > 0, 'the upstream event');
  // From here on it reads nothing: every reply stays unread.
  slow.pause();

  let maxRss = await gateway.rss();
  let sent = 0;
  let answeredMeanwhile = false;
  const until = Date.now() + FLOOD_FOR_MS;
  while (slow.readyState === WebSocket.OPEN && Date.now() < until) {
    if (slow.bufferedAmount < CLIENT_BACKLOG_BYTES) for (let i = 0; i < BATCH; i++) slow.send(JSON.stringify({ id: ++sent, command: 'show' }));
    // A throttle for the flood (and the moment to sample memory), not a wait for an event.
    else await new Promise((resolve) => setTimeout(resolve, 100));
    maxRss = Math.max(maxRss, await gateway.rss());
    if (!answeredMeanwhile && sent >= 2000) {
      reader.send({ id: 1, command: 'show' });
      const reply = replyOf(await reader.next((m) => 'id' in m, 15_000));
      assert.equal(reply.ok && reply.files.length, FILES, 'a normal session is answered meanwhile');
      answeredMeanwhile = true;
    }
  }
  assert.ok(answeredMeanwhile, `the flood got to 2000 requests (${sent} sent)`);
  assert.ok(maxRss < RSS_LIMIT, `the gateway grew to ${Math.round(maxRss / 1024 / 1024)} MB`);
  assert.equal(slow.readyState, WebSocket.OPEN, 'a client that sends no faster than it is read is not cut');

  // Reading now, it gets its answers from the first, in request order.
  slow.resume();
  const replies = () => received.filter((m) => 'id' in m);
  await eventually(() => replies().length >= 5, 'the first answers once the client reads', 20_000);
  assert.deepEqual(
    replies().slice(0, 5).map((m) => replyOf(m).id),
    [1, 2, 3, 4, 5],
  );
  assert.ok(replies().slice(0, 5).every((m) => replyOf(m).ok), 'answers, not refusals');
  slow.terminate();
  reader.send({ id: 2, command: 'show' });
  const reply = replyOf(await reader.next((m) => 'id' in m, 15_000));
  assert.equal(reply.ok && reply.files.length, FILES);
  maxRss = Math.max(maxRss, await gateway.rss());
  assert.ok(maxRss < RSS_LIMIT, `the gateway grew to ${Math.round(maxRss / 1024 / 1024)} MB`);
});
