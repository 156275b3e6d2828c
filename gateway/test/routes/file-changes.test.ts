import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import request from 'supertest';
import { ErrorKind, Reply } from 'tor-server/protocol';
import { filePath } from '../../src/api/index.js';
import { startApp, startTorServer, storedNames } from '../helpers.js';

/** A tor-server at `access` with a.txt and b.txt, and a gateway in front of it. */
async function setUp(t: { after(fn: () => unknown): void }, access: 'read' | 'write' | 'admin') {
  const { dir, port } = await startTorServer(t, { openAccess: access });
  await fs.writeFile(path.join(dir, 'a.txt'), 'alpha');
  await fs.writeFile(path.join(dir, 'b.txt'), 'beta');
  const app = await startApp(t, port);
  return { dir, http: () => request(app.server) };
}

test('GET /api/session says the access level the tor-server grants', async (t) => {
  for (const access of ['read', 'write', 'admin'] as const) {
    const { http } = await setUp(t, access);
    const res = await http().get('/api/session').expect(200);
    assert.deepEqual(res.body, { access });
    assert.equal(res.headers['cache-control'], 'no-store');
  }
});

test('at admin: DELETE is 204 and the file is gone; a missing file is 404; an invalid name is 400', async (t) => {
  const { dir, http } = await setUp(t, 'admin');
  const res = await http().delete(filePath('a.txt')).expect(204);
  assert.equal(res.text, '');
  assert.deepEqual(await storedNames(dir), ['b.txt']);
  const missing = await http().delete(filePath('a.txt')).expect(404);
  assert.deepEqual(missing.body, { error: Reply.NOT_FOUND });
  const invalid = await http().delete(filePath('.hidden')).expect(400);
  assert.match(invalid.body.error, new RegExp(`^${ErrorKind.INVALID_NAME}: `));
});

test('at admin: PATCH renames and answers the new row; a taken name is 409, a missing file 404, a bad name 400, nothing moved', async (t) => {
  const { dir, http } = await setUp(t, 'admin');
  const res = await http().patch(filePath('a.txt')).send({ name: 'renamed é.txt' }).expect(200);
  assert.equal(res.body.name, 'renamed é.txt');
  assert.equal(res.body.size, 5);
  assert.match(res.body.modified, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepEqual(await storedNames(dir), ['b.txt', 'renamed é.txt']);
  assert.equal(await fs.readFile(path.join(dir, 'renamed é.txt'), 'utf8'), 'alpha');

  const taken = await http().patch(filePath('renamed é.txt')).send({ name: 'b.txt' }).expect(409);
  assert.match(taken.body.error, new RegExp(`^${ErrorKind.FILE_EXISTS}: `));
  const missing = await http().patch(filePath('nothing.txt')).send({ name: 'c.txt' }).expect(404);
  assert.deepEqual(missing.body, { error: Reply.NOT_FOUND });
  const bad = await http().patch(filePath('b.txt')).send({ name: 'a/b.txt' }).expect(400);
  assert.match(bad.body.error, new RegExp(`^${ErrorKind.INVALID_NAME}: `));
  await http().patch(filePath('b.txt')).send({ other: 'c.txt' }).expect(400);
  await http().patch(filePath('b.txt')).set('content-type', 'text/plain').send('c.txt').expect(400);
  assert.deepEqual(await storedNames(dir), ['b.txt', 'renamed é.txt']);
});

test('at write: DELETE and PATCH are 403 with the tor-server\'s own line, and nothing changes', async (t) => {
  const { dir, http } = await setUp(t, 'write');
  const del = await http().delete(filePath('a.txt')).expect(403);
  assert.match(del.body.error, new RegExp(`^${ErrorKind.PERMISSION_DENIED}: `));
  const patch = await http().patch(filePath('a.txt')).send({ name: 'c.txt' }).expect(403);
  assert.match(patch.body.error, new RegExp(`^${ErrorKind.PERMISSION_DENIED}: `));
  assert.deepEqual(await storedNames(dir), ['a.txt', 'b.txt']);
});

test('a page of another origin can neither delete nor rename, even at admin', async (t) => {
  const { dir, http } = await setUp(t, 'admin');
  const origin = 'https://evil.example';
  const del = await http().delete(filePath('a.txt')).set('origin', origin).expect(403);
  assert.match(del.body.error, /--allowed-origins/);
  await http().patch(filePath('a.txt')).set('origin', origin).send({ name: 'c.txt' }).expect(403);
  assert.deepEqual(await storedNames(dir), ['a.txt', 'b.txt']);
});
