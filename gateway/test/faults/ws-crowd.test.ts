import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import WebSocket from 'ws';
import { eventually, within } from 'test-support';
import type { WsServerMessage } from '../../src/api/index.js';
import { listen, startApp, startTorServer } from '../helpers.js';

const SESSIONS = 1000;
const POOL = 4;
// Sockets are opened this many at a time, as browsers arriving in a rush would.
const OPEN_BATCH = 100;

test(`${SESSIONS} WebSocket sessions cost at most --upstream-pool (${POOL}) tor-server connections, and every one gets its answer`, { timeout: 60_000 }, async (t) => {
  const { server, dir, port } = await startTorServer(t);
  await fs.writeFile(path.join(dir, 'shared.txt'), 'for everyone');
  let most = 0;
  server.on('clients', (count) => (most = Math.max(most, count)));
  const app = await startApp(t, port, { upstreamPool: POOL, maxWsPerAddress: SESSIONS, maxWsSessions: SESSIONS });
  const url = `${(await listen(app)).replace(/^http/, 'ws')}/api/ws`;

  const sockets: WebSocket[] = [];
  t.after(() => sockets.forEach((socket) => socket.terminate()));
  const answers = new Map<WebSocket, WsServerMessage>();
  for (let i = 0; i < SESSIONS; i += OPEN_BATCH) {
    const batch = Array.from({ length: Math.min(OPEN_BATCH, SESSIONS - i) }, () => new WebSocket(url));
    sockets.push(...batch);
    for (const socket of batch) {
      socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as WsServerMessage;
        if ('id' in message) answers.set(socket, message);
      });
    }
    await within(Promise.all(batch.map((socket) => once(socket, 'open'))), 20_000, 'a batch of sockets to open');
  }
  for (const socket of sockets) socket.send(JSON.stringify({ id: 1, command: 'show' }));
  await eventually(() => answers.size === SESSIONS, `every session to be answered (${answers.size} so far)`, 40_000);
  for (const answer of answers.values()) assert.deepEqual('files' in answer && answer.files.map((f) => f.name), ['shared.txt']);
  // The pool, and the one change feed subscription they all share.
  assert.ok(most <= POOL + 1, `the tor-server saw at most ${POOL} + 1 connections at once (saw ${most})`);
  assert.ok(app.commandPool.openCount <= POOL);
});
