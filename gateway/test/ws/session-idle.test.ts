import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TorServer } from 'tor-server/server';
import { WsProbe, listen, replyOf, scratchDir, startApp, waitFor } from '../helpers.js';

test('the tor-server closing an idle pooled connection goes unnoticed by the browser: no upstream:false, the next command works', async (t) => {
  const dir = await scratchDir(t);
  // The server drops connections idle for 300 ms.
  const server = await TorServer.start({ host: '127.0.0.1', port: 0, dir, idleTimeoutMs: 300 });
  t.after(() => server.close(0));
  const app = await startApp(t, server.address().port);
  const ws = await WsProbe.open(t, await listen(app));
  assert.deepEqual(await ws.next(), { event: 'upstream', connected: true });

  for (let round = 1; round <= 2; round++) {
    ws.send({ id: round, command: 'show' });
    assert.deepEqual(replyOf(await ws.next((m) => 'id' in m)), { id: round, ok: true, files: [], seq: app.changeFeed.seq });
    // The pooled connection that answered is closed by the server for being idle (a watch is never idle).
    await waitFor(() => server.connections.size === app.changeFeed.connectionCount && app.commandPool.openCount === 0, 'the idle connection to be closed');
  }
  ws.send({ id: 3, command: 'search', text: 'x' });
  assert.deepEqual(replyOf(await ws.next((m) => 'id' in m)), { id: 3, ok: true, files: [], seq: app.changeFeed.seq });
  assert.deepEqual(ws.messages.filter((m) => 'event' in m && m.event === 'upstream'), [{ event: 'upstream', connected: true }]);
});
