import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { eventually } from 'test-support';
import { ApiPath } from '../../src/api/index.js';
import { listen } from '../helpers.js';
import { startAuthStack } from '../auth-helpers.js';

const BOUNDARY = 'in-flight-test';

test('a request under way keeps its user: a form part spooled while the user has no connection left is still stored (no 401 the tor-server never sent)', async (t) => {
  // The tor-server closes idle connections at once, and the gateway forgets unused users soon.
  const stack = await startAuthStack(t, { tor: { idleTimeoutMs: 200 }, app: { identityIdleMs: 50 } });
  const url = await listen(stack.app);
  const alice = await stack.addToken('alice', 'write');
  const bob = await stack.addToken('bob', 'read');

  // A part without a size is spooled: its connection waits idle meanwhile, and the tor-server closes it.
  const upload = http.request(`${url}${ApiPath.files}`, { method: 'POST', headers: { authorization: `Bearer ${alice}`, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` } });
  const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
    upload.on('response', (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    upload.on('error', reject);
  });
  // Awaited below; a failing test must not leave it unhandled meanwhile.
  answered.catch(() => {});
  upload.write(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="late.txt"\r\nContent-Type: text/plain\r\n\r\nthe first half, `);
  await eventually(async () => (await fs.readdir(stack.spoolDir)).length > 0, 'the part to be spooling');
  await eventually(() => stack.server.connections.size === 0, 'the tor-server to close the idle upload connection');
  // Bob comes and goes after that: once he is forgotten, a sweep ran while alice had no connection either.
  await stack.http().get(ApiPath.files).set('authorization', `Bearer ${bob}`).expect(200);
  assert.equal(stack.app.identities.count, 3);
  await eventually(() => stack.server.connections.size === 0, 'the tor-server to close bob\'s idle connection');
  await eventually(() => stack.app.identities.count === 2, 'the unused user to be forgotten');
  upload.end(`the second half\r\n--${BOUNDARY}--\r\n`);
  const { status, body } = await answered;
  assert.equal(status, 201, body);
  assert.equal(await fs.readFile(path.join(stack.dir, 'late.txt'), 'utf8'), 'the first half, the second half');
});
