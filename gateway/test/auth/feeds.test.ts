import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from 'test-support';
import { filePath, type WsServerMessage } from '../../src/api/index.js';
import { NO_FEED_REASON } from '../../src/ws/session.js';
import { WsProbe, listen, replyOf, startStack } from '../helpers.js';
import { sessionCookie, startAuthStack } from '../auth-helpers.js';

const isEvent = (name: string) => (message: WsServerMessage) => 'event' in message && message.event === name;

test('change feeds are bounded below maxUpstream: by default a quarter of it', async (t) => {
  const { app } = await startStack(t, { app: { maxUpstream: 48 } });
  assert.equal(app.identities.maxFeeds, 12);
  const small = await startStack(t, { app: { maxUpstream: 3 } });
  assert.equal(small.app.identities.maxFeeds, 1);
});

test('beyond maxChangeFeeds a new user\'s WebSocket gets no live changes and its upstream event says so; it lists as ever, and gets a feed once one is free', async (t) => {
  const stack = await startAuthStack(t, { files: { 'a.txt': 'alpha' }, app: { maxChangeFeeds: 1, changeFeedLingerMs: 50 } });
  const url = await listen(stack.app);
  const first = await stack.addToken('ada', 'write');
  const second = await stack.addToken('bob', 'read');
  const firstWs = await WsProbe.open(t, url, { cookie: sessionCookie(first) });
  assert.deepEqual(await firstWs.next(isEvent('upstream')), { event: 'upstream', connected: true });
  const secondWs = await WsProbe.open(t, url, { cookie: sessionCookie(second) });
  assert.deepEqual(await secondWs.next(isEvent('upstream')), { event: 'upstream', connected: true, liveChanges: false, reason: NO_FEED_REASON });
  assert.equal(stack.app.identities.feedCount, 1);
  assert.equal(stack.app.identities.feedConnections, 1);
  secondWs.send({ id: 1, command: 'show' });
  const listing = replyOf(await secondWs.next((message) => 'id' in message && message.id === 1));
  assert.ok(listing.ok && listing.files.map((file) => file.name).join() === 'a.txt', JSON.stringify(listing));
  secondWs.send({ id: 2, command: 'since', seq: 0 });
  assert.deepEqual(await secondWs.next((message) => 'id' in message && message.id === 2), { id: 2, ok: true, resync: true, seq: 0 });

  // The first user leaves: its feed slot is free again, and the second user's next session gets it.
  await firstWs.close();
  await eventually(() => stack.app.identities.feedCount === 0, 'the first feed to close');
  const again = await WsProbe.open(t, url, { cookie: sessionCookie(second) });
  assert.deepEqual(await again.next(isEvent('upstream')), { event: 'upstream', connected: true });
  await stack.http().put(filePath('b.txt')).set('cookie', sessionCookie(first)).set('content-type', 'application/octet-stream').send('beta').expect(201);
  await again.next(isEvent('files-changed'));
});
