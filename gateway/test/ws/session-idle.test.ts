import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { TorServer } from 'tor-server/server';
import { WsProbe, listen, replyOf, scratchDir, startApp, waitFor } from '../helpers.js';

test('a tor-server closing an idle session connection is reconnected quietly: no upstream:false reaches the browser', async (t) => {
  const dir = await scratchDir(t);
  // The server drops connections idle for 300 ms; the session treats drops after 100 ms as idle closes.
  const server = await TorServer.start({ host: '127.0.0.1', port: 0, dir, idleTimeoutMs: 300 });
  t.after(() => server.close(0));
  const app = await startApp(t, server.address().port, { wsQuietReconnectAfterMs: 100 });
  const ws = await WsProbe.open(t, await listen(app));
  assert.deepEqual(await ws.next(), { event: 'upstream', connected: true });

  // Long enough for the server to close the idle connection at least twice.
  await sleep(1000);
  await waitFor(() => server.connections.size === 1, 'the session to be connected again');
  ws.send({ id: 1, command: 'show' });
  assert.deepEqual(replyOf(await ws.next((m) => 'id' in m)), { id: 1, ok: true, files: [] });
  assert.deepEqual(ws.messages.filter((m) => 'event' in m && m.event === 'upstream'), [{ event: 'upstream', connected: true }]);
});
