import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { SIGN_IN_FIRST, SignInRefusal, TOKEN_REVOKED } from 'tor-server/protocol';
import { WAIT_MS, eventually, within } from 'test-support';
import { WS_CLOSE_SIGNED_OUT, filePath, type WsServerMessage } from '../../src/api/index.js';
import { WsProbe, listen, replyOf } from '../helpers.js';
import { sessionCookie, startAuthStack } from '../auth-helpers.js';

const isChange = (message: WsServerMessage) => 'event' in message && message.event === 'files-changed';

/** Resolves with the close code and reason of the probe's socket. */
async function closeOf(probe: WsProbe): Promise<{ code: number; reason: string }> {
  const [code, reason] = (await within(once(probe.socket, 'close'), WAIT_MS, 'the WebSocket to close')) as [number, Buffer];
  return { code, reason: reason.toString() };
}

test('each user\'s WebSocket lists and hears what its token may see: a token limited to one file gets only that file, and no feed of the others', async (t) => {
  const stack = await startAuthStack(t, { files: { 'a.txt': 'alpha', 'b.txt': 'beta' }, app: { changeFeedLingerMs: 50 } });
  const url = await listen(stack.app);
  const admin = await stack.addToken('ada', 'admin');
  const limited = await stack.addToken('oscar', 'read', '--only', 'a.txt');
  const reader = await stack.addToken('rita', 'read');
  const adminWs = await WsProbe.open(t, url, { authorization: `Bearer ${admin}` });
  const readerWs = await WsProbe.open(t, url, { cookie: sessionCookie(reader) });
  const limitedWs = await WsProbe.open(t, url, { cookie: sessionCookie(limited) });
  adminWs.send({ id: 1, command: 'show' });
  limitedWs.send({ id: 1, command: 'show' });
  const names = async (probe: WsProbe) => {
    const reply = replyOf(await probe.next((message) => 'id' in message));
    assert.ok(reply.ok, JSON.stringify(reply));
    return reply.files.map((file) => file.name);
  };
  assert.deepEqual(await names(adminWs), ['a.txt', 'b.txt']);
  assert.deepEqual(await names(limitedWs), ['a.txt']);

  await stack.http().put(filePath('c.txt')).set('authorization', `Bearer ${admin}`).set('content-type', 'application/octet-stream').send('gamma').expect(201);
  for (const probe of [adminWs, readerWs]) {
    const change = await probe.next(isChange);
    assert.deepEqual('event' in change && change.event === 'files-changed' && change.change.type === 'added' && change.change.file.name, 'c.txt');
  }
  // The limited session is still open and answering, and heard nothing of c.txt.
  limitedWs.send({ id: 2, command: 'ping' });
  await limitedWs.next((message) => 'id' in message && message.id === 2);
  assert.equal(limitedWs.messages.filter(isChange).length, 0);
  // Two users, two feeds: the gateway never hands one user's feed to another.
  // Two users who may watch, two feeds, each on its own connection signed in as its user (the
  // limited token's watch is refused by the tor-server: it gets none).
  assert.equal(stack.app.identities.feedConnections, 2);
  const watchers = [...stack.server.connections].filter((conn) => conn.activity.kind === 'watching').map((conn) => conn.session?.label).sort();
  assert.deepEqual(watchers, ['ada', 'rita']);
  // The user's last session gone, its feed goes too; the other user's stays.
  await adminWs.close();
  await eventually(() => stack.app.identities.feedConnections === 1, 'the feed of a user without sessions to close');
  await readerWs.close();
  await eventually(() => stack.app.identities.feedConnections === 0, 'the last feed to close');
});

test('revoking a token ends its WebSocket sessions with WS_CLOSE_SIGNED_OUT and the tor-server\'s line', async (t) => {
  const stack = await startAuthStack(t, { files: { 'a.txt': 'alpha' } });
  const url = await listen(stack.app);
  const token = await stack.addToken('will', 'write');
  const ws = await WsProbe.open(t, url, { cookie: sessionCookie(token) });
  ws.send({ id: 1, command: 'show' });
  assert.ok(replyOf(await ws.next((message) => 'id' in message)).ok);
  const closed = closeOf(ws);
  await stack.revoke('will');
  const { code, reason } = await closed;
  assert.equal(code, WS_CLOSE_SIGNED_OUT);
  assert.ok([TOKEN_REVOKED, SignInRefusal.INVALID_TOKEN].includes(reason), reason);
});

test('without a token on a server that requires sign-in, the WebSocket is closed with the sign-in line', async (t) => {
  const stack = await startAuthStack(t);
  const url = await listen(stack.app);
  const ws = await WsProbe.open(t, url);
  assert.deepEqual(await closeOf(ws), { code: WS_CLOSE_SIGNED_OUT, reason: SIGN_IN_FIRST });
});
