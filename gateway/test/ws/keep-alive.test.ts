import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import WebSocket from 'ws';
import { listen, startApp, startTorServer, waitFor, withTimeout } from '../helpers.js';

const PING_MS = 100;
const PINGS = 5;

/** Opens a raw ws client to the gateway; `autoPong: false` makes it a peer that has silently gone. */
async function open(t: { after(fn: () => unknown): void }, base: string, autoPong: boolean): Promise<{ socket: WebSocket; pings: () => number }> {
  const socket = new WebSocket(`${base.replace(/^http/, 'ws')}/api/ws`, { autoPong });
  t.after(() => socket.terminate());
  let pings = 0;
  socket.on('ping', () => pings++);
  await withTimeout(once(socket, 'open'), 5000, 'the socket to open');
  return { socket, pings: () => pings };
}

test('the gateway pings every session, keeps one that answers and drops one that misses two pongs', { timeout: 30_000 }, async (t) => {
  const { port } = await startTorServer(t);
  const app = await startApp(t, port, { wsPingIntervalMs: PING_MS });
  const base = await listen(app);
  const alive = await open(t, base, true);
  const silent = await open(t, base, false);
  const closed = once(silent.socket, 'close');

  await withTimeout(closed, 10_000, 'the silent client to be dropped');
  assert.ok(silent.pings() >= 2, `dropped after ${silent.pings()} unanswered pings`);
  await waitFor(() => alive.pings() >= PINGS, `${PINGS} pings to the answering client`);
  assert.equal(alive.socket.readyState, WebSocket.OPEN, 'a client that answers stays');
});
