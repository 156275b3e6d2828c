import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from 'tor-server/server';
import { eventually } from 'test-support';
import { WsProbe, listen, replyOf, startApp, startTorServer } from '../helpers.js';

// The tor-server drops connections idle for this long.
const IDLE_TIMEOUT_MS = 300;

test('the tor-server closing an idle pooled connection goes unnoticed by the browser: no upstream:false, the next command works', async (t) => {
  // What the tor-server logs when it closes a connection for being idle: the close and its reason.
  const idleCloses: string[] = [];
  const logger = createLogger('info', (line) => {
    if (/ idle-timeout /.test(line)) idleCloses.push(line);
  });
  const { server, port } = await startTorServer(t, { idleTimeoutMs: IDLE_TIMEOUT_MS, logger });
  const app = await startApp(t, port);
  const ws = await WsProbe.open(t, await listen(app));
  assert.deepEqual(await ws.next(), { event: 'upstream', connected: true });

  for (let round = 1; round <= 2; round++) {
    ws.send({ id: round, command: 'show' });
    assert.deepEqual(replyOf(await ws.next((m) => 'id' in m)), { id: round, ok: true, files: [], seq: app.changeFeed.seq });
    // The pooled connection that answered is closed by the server for being idle...
    await eventually(() => idleCloses.length === round, `idle close number ${round}`);
    assert.match(idleCloses[round - 1]!, / info idle-timeout client=\S+\n$/);
    // ...and is gone from both ends (the change feed's watch is never idle, so it stays).
    await eventually(() => server.connections.size === app.changeFeed.connectionCount && app.commandPool.openCount === 0, 'the idle connection to be gone');
  }
  ws.send({ id: 3, command: 'search', text: 'x' });
  assert.deepEqual(replyOf(await ws.next((m) => 'id' in m)), { id: 3, ok: true, files: [], seq: app.changeFeed.seq });
  assert.deepEqual(ws.messages.filter((m) => 'event' in m && m.event === 'upstream'), [{ event: 'upstream', connected: true }]);
});
