import assert from 'node:assert/strict';
import { once } from 'node:events';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import type { TorServer } from 'tor-server/server';
import { eventually, Scope, within } from 'test-support';
import WebSocket from 'ws';
import { WS_MAX_MESSAGE_BYTES, type WsServerMessage } from '../../src/api/index.js';
import { WsProbe, listen, replyOf, transferConnections, type TestApp, startStack } from '../helpers.js';

const isReply = (id: number | null) => (m: WsServerMessage) => 'id' in m && m.id === id;

describe('GET /api/ws', () => {
  const scope = new Scope();
  let server: TorServer;
  let dir: string;
  let app: TestApp;
  let base: string;

  before(async () => {
    ({ server, dir, app } = await startStack(scope, { files: Object.fromEntries(['alpha.pdf', 'beta.txt', 'Gamma.PDF'].map((name) => [name, name])) }));
    base = await listen(app);
  });
  after(() => scope.close());

  test('sockets hold no TFTCP connection of their own: the link state is announced, commands share the pool', async (t) => {
    await eventually(() => transferConnections(app) === 0, 'no transfer connections');
    const first = await WsProbe.open(t, base);
    assert.deepEqual(await first.next(), { event: 'upstream', connected: true });
    const second = await WsProbe.open(t, base);
    assert.deepEqual(await second.next(), { event: 'upstream', connected: true });
    first.send({ id: 1, command: 'show' });
    second.send({ id: 1, command: 'show' });
    assert.equal(replyOf(await first.next(isReply(1))).ok, true);
    assert.equal(replyOf(await second.next(isReply(1))).ok, true);
    // Besides the pool, the one change feed subscription shared by every session.
    await eventually(() => app.changeFeed.subscribed, 'the change feed to subscribe');
    assert.equal(server.connections.size, app.commandPool.openCount + 1);
    assert.ok(app.commandPool.openCount <= 2);
    await first.close();
    await second.close();
    assert.equal(server.connections.size, app.commandPool.openCount + 1);
  });

  test('show and search answer with files, ids echoed', async (t) => {
    const ws = await WsProbe.open(t, base);
    ws.send({ id: 1, command: 'show' });
    const shown = replyOf(await ws.next(isReply(1)));
    assert.deepEqual(shown.ok ? shown.files.map((f) => f.name) : shown, ['Gamma.PDF', 'alpha.pdf', 'beta.txt']);
    ws.send({ id: 2, command: 'search', text: 'pdf' });
    const found = await ws.next(isReply(2));
    assert.ok('files' in found);
    assert.deepEqual(found.files.map((f) => f.name), ['Gamma.PDF', 'alpha.pdf']);
    assert.deepEqual(found.files[1], { name: 'alpha.pdf', size: 9, modified: found.files[1]!.modified });
  });

  test('requests on one socket are answered in the order they were sent', async (t) => {
    const ws = await WsProbe.open(t, base);
    await ws.next((m) => 'event' in m);
    const ids = Array.from({ length: 30 }, (_, i) => i + 100);
    for (const id of ids) {
      // Malformed ones in between must not overtake the rest.
      if (id % 7 === 0) ws.send({ id, command: 'nope' });
      else ws.send(id % 2 ? { id, command: 'show' } : { id, command: 'search', text: 'a' });
    }
    const replies: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const reply = await ws.next((m) => 'id' in m);
      replies.push((reply as { id: number }).id);
    }
    assert.deepEqual(replies, ids);
  });

  test('malformed JSON, unknown commands, bad fields, binary and oversize messages get ok:false; the socket stays open', async (t) => {
    const ws = await WsProbe.open(t, base);
    await ws.next((m) => 'event' in m);
    const cases: [unknown, number | null, RegExp][] = [
      ['{"id": 1, "command": ', null, /malformed JSON/],
      ['[1, 2]', null, /JSON object/],
      [{ command: 'show' }, null, /numeric "id"/],
      [{ id: 'x', command: 'show' }, null, /numeric "id"/],
      [{ id: 3, command: 'delete' }, 3, /unknown command "delete"/],
      [{ id: 4, command: 'search' }, 4, /"text" string/],
      [{ id: 5, command: 'search', text: 'a\nshow' }, 5, /control characters/],
      [JSON.stringify({ id: 6, command: 'search', text: 'x'.repeat(WS_MAX_MESSAGE_BYTES) }), null, new RegExp(`limit is ${WS_MAX_MESSAGE_BYTES} bytes`)],
    ];
    for (const [message, id, pattern] of cases) {
      ws.send(message);
      const reply = replyOf(await ws.next((m) => 'id' in m));
      assert.equal(reply.ok, false);
      assert.equal(reply.id, id, String(message).slice(0, 60));
      assert.match(reply.ok ? '' : reply.error, pattern);
    }
    ws.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    const binary = await ws.next((m) => 'id' in m);
    assert.match((binary as { error: string }).error, /binary/);
    ws.send({ id: 7, command: 'show' });
    assert.equal(replyOf(await ws.next(isReply(7))).ok, true);
    assert.equal(ws.socket.readyState, WebSocket.OPEN);
  });

  test('an upload through the gateway sends files-changed with the new row to every open socket', async (t) => {
    const watcher = await WsProbe.open(t, base);
    const other = await WsProbe.open(t, base);
    await watcher.next();
    await other.next();
    await request(app.server).put('/api/files/new.txt').send('fresh').expect(201);
    // The fixture's files were written by hand a moment ago, and the server announces those once
    // they have been quiet for a while: such an `added` may come first, so look for this file's.
    const changeOf = (name: string) => (m: WsServerMessage) => 'event' in m && m.event === 'files-changed' && 'change' in m && m.change.type === 'added' && m.change.file.name === name;
    const seen = await watcher.next(changeOf('new.txt'));
    assert.ok('change' in seen && seen.change.type === 'added');
    assert.deepEqual({ ...seen.change.file, modified: undefined }, { name: 'new.txt', size: 5, modified: undefined });
    assert.deepEqual(await other.next(changeOf('new.txt')), seen);
    await request(app.server).post('/api/files').field('size', '3').attach('file', Buffer.from('abc'), 'form.txt').expect(201);
    const form = await watcher.next(changeOf('form.txt'));
    assert.ok('change' in form && form.change.type === 'added' && form.change.seq > seen.change.seq);
    watcher.send({ id: 1, command: 'search', text: 'new' });
    const reply = await watcher.next(isReply(1));
    assert.ok('files' in reply && reply.files.some((f) => f.name === 'new.txt'));
  });

  test('a WebSocket opened by another site is refused', async () => {
    const socket = new WebSocket(`${base.replace('http', 'ws')}/api/ws`, { headers: { origin: 'https://evil.example' } });
    socket.on('error', () => {});
    const [, response] = (await within(once(socket, 'unexpected-response'), 5000, 'the refusal')) as [unknown, { statusCode: number }];
    assert.equal(response.statusCode, 403);
    socket.terminate();
  });
});
