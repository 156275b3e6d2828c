import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TftcpClient } from 'tor-server/client';
import { Command } from 'tor-server/protocol';
import { TorServer } from 'tor-server/server';
import type { FileChange, WsServerMessage } from '../../src/api/index.js';
import { WsProbe, listen, replyOf, scratchDir, startApp, startTorServer, waitFor } from '../helpers.js';
import { TftcpProxy } from '../tftcp-proxy.js';

const isChange = (m: WsServerMessage) => 'event' in m && m.event === 'files-changed';
const changeOf = (m: WsServerMessage): FileChange => {
  if (!('event' in m) || m.event !== 'files-changed') throw new Error(`expected files-changed, got ${JSON.stringify(m)}`);
  return m.change;
};
const isReply = (id: number) => (m: WsServerMessage) => 'id' in m && m.id === id;

/** A raw TFTCP client (as tor-client or nc would be), closed when the test ends. */
async function rawClient(t: { after(fn: () => unknown): void }, port: number): Promise<TftcpClient> {
  const client = await TftcpClient.connect({ host: '127.0.0.1', port });
  t.after(() => client.destroy());
  return client;
}

/** Uploads `text` as `name` over a raw client. */
const put = (client: TftcpClient, name: string, text: string) => client.upload(name, Buffer.byteLength(text), [Buffer.from(text)]);

test('changes made by a raw TFTCP client reach every WebSocket session as files-changed with the change, in seq order', { timeout: 30_000 }, async (t) => {
  const { port } = await startTorServer(t, { openAccess: 'admin' });
  const app = await startApp(t, port);
  const base = await listen(app);
  const first = await WsProbe.open(t, base);
  const second = await WsProbe.open(t, base);
  await first.next();
  await second.next();
  first.send({ id: 1, command: 'show' });
  const listing = replyOf(await first.next(isReply(1)));
  assert.ok(listing.ok && listing.files.length === 0);
  const start = listing.seq;

  const raw = await rawClient(t, port);
  await put(raw, 'from-nc.txt', 'hello');
  assert.equal(await raw.rename('from-nc.txt', 'renamed.txt'), true);
  assert.equal(await raw.delete('renamed.txt'), true);

  const seen = [changeOf(await first.next(isChange)), changeOf(await first.next(isChange)), changeOf(await first.next(isChange))];
  const added = seen[0]!;
  assert.ok(added.type === 'added');
  assert.equal(added.file.name, 'from-nc.txt');
  assert.equal(added.file.size, 5);
  assert.deepEqual(seen.slice(1), [
    { type: 'renamed', seq: start + 2, from: 'from-nc.txt', to: 'renamed.txt' },
    { type: 'removed', seq: start + 3, name: 'renamed.txt' },
  ]);
  assert.equal(added.seq, start + 1);
  for (let i = 0; i < 3; i++) assert.deepEqual(changeOf(await second.next(isChange)), seen[i]);

  // A browser that missed them asks for them: the gateway still holds them.
  second.send({ id: 2, command: 'since', seq: start });
  assert.deepEqual(replyOf<'since'>(await second.next(isReply(2))), { id: 2, ok: true, changes: seen, seq: start + 3 });
  second.send({ id: 3, command: 'since', seq: start + 3 });
  assert.deepEqual(replyOf<'since'>(await second.next(isReply(3))), { id: 3, ok: true, changes: [], seq: start + 3 });
  second.send({ id: 4, command: 'ping' });
  assert.deepEqual(replyOf<'ping'>(await second.next(isReply(4))), { id: 4, ok: true, pong: true });
});

test('since answers resync when the gateway no longer holds every change after it', { timeout: 30_000 }, async (t) => {
  const { port } = await startTorServer(t);
  const app = await startApp(t, port, { changeRingSize: 2 });
  const ws = await WsProbe.open(t, await listen(app));
  await ws.next();
  const start = app.changeFeed.seq;
  const raw = await rawClient(t, port);
  for (const name of ['1.txt', '2.txt', '3.txt']) await put(raw, name, name);
  for (let i = 0; i < 3; i++) await ws.next(isChange);
  ws.send({ id: 1, command: 'since', seq: start });
  assert.deepEqual(replyOf<'since'>(await ws.next(isReply(1))), { id: 1, ok: true, resync: true, seq: start + 3 });
  ws.send({ id: 2, command: 'since', seq: start + 1 });
  const held = replyOf<'since'>(await ws.next(isReply(2)));
  assert.ok(held.ok && 'changes' in held);
  assert.deepEqual(
    held.changes.map((c) => c.type === 'added' && c.file.name),
    ['2.txt', '3.txt'],
  );
  ws.send({ id: 3, command: 'since', seq: start + 99 });
  assert.deepEqual(replyOf<'since'>(await ws.next(isReply(3))), { id: 3, ok: true, resync: true, seq: start + 3 }, 'a seq this feed never had');
});

test('after its connection drops the feed resumes with since: nothing missed, nothing twice', { timeout: 30_000 }, async (t) => {
  const { port } = await startTorServer(t);
  const proxy = await TftcpProxy.start(t, port);
  const app = await startApp(t, proxy.port);
  const ws = await WsProbe.open(t, await listen(app));
  await ws.next();
  const raw = await rawClient(t, port);
  await put(raw, 'before.txt', 'x');
  const before = changeOf(await ws.next(isChange));

  proxy.cutAll();
  // Made straight on the tor-server, while the gateway's subscription is down or coming back.
  await put(raw, 'during-1.txt', 'x');
  await put(raw, 'during-2.txt', 'x');
  await waitFor(() => app.changeFeed.subscribed && proxy.count(Command.WATCH) >= 2, 'the feed to subscribe again');
  await put(raw, 'after.txt', 'x');
  const rest = [changeOf(await ws.next(isChange)), changeOf(await ws.next(isChange)), changeOf(await ws.next(isChange))];
  assert.deepEqual(
    rest.map((c) => (c.type === 'added' ? [c.file.name, c.seq] : c)),
    [
      ['during-1.txt', before.seq + 1],
      ['during-2.txt', before.seq + 2],
      ['after.txt', before.seq + 3],
    ],
  );
  ws.send({ id: 1, command: 'show' });
  await ws.next(isReply(1));
  assert.equal(ws.messages.filter(isChange).length, 4, 'each change once');
});

test('a tor-server restart (a new run, new seqs) reaches the sessions as a resync', { timeout: 30_000 }, async (t) => {
  const dir = await scratchDir(t);
  let server = await TorServer.start({ host: '127.0.0.1', port: 0, dir, shutdownGraceMs: 0 });
  const port = server.address().port;
  t.after(() => server.close(0));
  const app = await startApp(t, port);
  const ws = await WsProbe.open(t, await listen(app));
  await ws.next();
  await server.close(0);
  server = await TorServer.start({ host: '127.0.0.1', port, dir, shutdownGraceMs: 0 });
  const change = changeOf(await ws.next(isChange, 10_000));
  assert.equal(change.type, 'resync');
  assert.equal(app.changeFeed.seq, change.seq);
});
