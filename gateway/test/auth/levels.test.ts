import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiPath, filePath } from '../../src/api/index.js';
import { storedNames } from '../helpers.js';
import { startAuthStack, type AuthStack } from '../auth-helpers.js';

/** A request as a token's holder makes it (Bearer). */
function as(stack: AuthStack, token: string) {
  const bearer = `Bearer ${token}`;
  const http = stack.http();
  return {
    get: (path: string) => http.get(path).set('authorization', bearer),
    put: (path: string, body: string) => stack.http().put(path).set('authorization', bearer).set('content-type', 'application/octet-stream').send(body),
    delete: (path: string) => stack.http().delete(path).set('authorization', bearer),
    patch: (path: string, body: object) => stack.http().patch(path).set('authorization', bearer).send(body),
    post: (path: string, body: object) => stack.http().post(path).set('authorization', bearer).send(body),
  };
}

test('every route at read, write and admin: what the token allows works, the rest is 403 with the tor-server\'s line', async (t) => {
  const stack = await startAuthStack(t, { files: { 'a.txt': 'alpha', 'b.txt': 'beta' } });
  const reader = as(stack, await stack.addToken('rita', 'read'));
  const writer = as(stack, await stack.addToken('will', 'write'));
  const admin = as(stack, await stack.addToken('ada', 'admin'));

  // read: listing, stat, bytes, digest, session.
  assert.deepEqual((await reader.get(ApiPath.session).expect(200)).body, { access: 'read', label: 'rita' });
  assert.deepEqual((await reader.get(ApiPath.files).expect(200)).body.map((row: { name: string }) => row.name), ['a.txt', 'b.txt']);
  assert.equal((await reader.get(filePath('a.txt')).expect(200)).text, 'alpha');
  await reader.get(`${filePath('a.txt')}?hash=sha256`).expect(200);
  assert.deepEqual((await reader.put(filePath('r.txt'), 'nope').expect(403)).body, { error: 'Permission denied: upload needs write access (this token gives read)' });
  assert.deepEqual((await reader.post(ApiPath.shares, { name: 'a.txt' }).expect(403)).body, { error: 'Permission denied: share needs write access (this token gives read)' });
  assert.deepEqual((await reader.get(ApiPath.shares).expect(403)).body, { error: 'Permission denied: shares needs write access (this token gives read)' });
  assert.deepEqual((await reader.delete(filePath('a.txt')).expect(403)).body, { error: 'Permission denied: delete needs admin access (this token gives read)' });

  // write: uploads and share links, not delete or rename.
  await writer.put(filePath('w.txt'), 'written').expect(201);
  await writer.post(ApiPath.shares, { name: 'a.txt' }).expect(201);
  assert.equal((await writer.get(ApiPath.shares).expect(200)).body.length, 1);
  assert.deepEqual((await writer.delete(filePath('a.txt')).expect(403)).body, { error: 'Permission denied: delete needs admin access (this token gives write)' });
  assert.deepEqual((await writer.patch(filePath('a.txt'), { name: 'c.txt' }).expect(403)).body, { error: 'Permission denied: rename needs admin access (this token gives write)' });

  // admin: all of it.
  await admin.patch(filePath('a.txt'), { name: 'c.txt' }).expect(200);
  await admin.delete(filePath('b.txt')).expect(204);
  assert.deepEqual(await storedNames(stack.dir), ['c.txt', 'w.txt']);
});

test('a token limited to one file lists only that file and is refused the others', async (t) => {
  const stack = await startAuthStack(t, { files: { 'a.txt': 'alpha', 'b.txt': 'beta' } });
  const only = as(stack, await stack.addToken('oscar', 'read', '--only', 'a.txt'));
  assert.deepEqual((await only.get(ApiPath.files).expect(200)).body.map((row: { name: string }) => row.name), ['a.txt']);
  assert.equal((await only.get(filePath('a.txt')).expect(200)).text, 'alpha');
  assert.deepEqual((await only.get(filePath('b.txt')).expect(403)).body, { error: 'Permission denied: this token is limited to a.txt' });
});
