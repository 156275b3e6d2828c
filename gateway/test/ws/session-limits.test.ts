import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import WebSocket from 'ws';
import { within } from 'test-support';
import { WsProbe, listen, startApp, startTorServer } from '../helpers.js';

/** Opens a socket from `localAddress` and waits for it to open or to be closed. */
async function connectFrom(t: { after(fn: () => unknown): void }, base: string, localAddress: string): Promise<{ socket: WebSocket; closed?: { code: number; reason: string } }> {
  const socket = new WebSocket(`${base.replace(/^http/, 'ws')}/api/ws`, { localAddress });
  t.after(() => socket.terminate());
  // A refused socket is closed right after it opened, before any message.
  const first = new Promise<{ code: number; reason: string } | undefined>((resolve) => {
    socket.once('close', (code, reason) => resolve({ code, reason: String(reason) }));
    socket.once('message', () => resolve(undefined));
  });
  await within(once(socket, 'open'), 5000, 'the socket to open');
  await within(first, 5000, 'the first message or the close');
  const closed = await first;
  return closed ? { socket, closed } : { socket };
}

test('sessions beyond the per-address cap and the total cap are closed with 1013 and a reason naming the limit', async (t) => {
  const { port } = await startTorServer(t);
  const app = await startApp(t, port, { maxWsPerAddress: 2, maxWsSessions: 3 });
  const base = await listen(app);

  const a1 = await connectFrom(t, base, '127.0.0.1');
  const a2 = await connectFrom(t, base, '127.0.0.1');
  assert.equal(a1.closed ?? a2.closed, undefined);
  const a3 = await connectFrom(t, base, '127.0.0.1');
  assert.equal(a3.closed?.code, 1013);
  assert.match(a3.closed!.reason, /too many WebSocket sessions from 127\.0\.0\.1 \(limit 2 per address\)/);

  const b1 = await connectFrom(t, base, '127.0.0.2');
  assert.equal(b1.closed, undefined, 'another address still has room');
  const c1 = await connectFrom(t, base, '127.0.0.3');
  assert.equal(c1.closed?.code, 1013);
  assert.match(c1.closed!.reason, /maximum of 3 WebSocket sessions/);

  // A session that ends gives its place back.
  a1.socket.close();
  await once(a1.socket, 'close');
  const again = await WsProbe.open(t, base);
  assert.deepEqual(await again.next(), { event: 'upstream', connected: true });
});
