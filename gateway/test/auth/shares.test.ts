import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { SHARE_USED_UP, SIGN_IN_FIRST, SignInRefusal } from 'tor-server/protocol';
import { ApiPath, sharedFilePath, type NewShareResponse } from '../../src/api/index.js';
import { eventually, scratchDir } from 'test-support';
import { binary } from '../helpers.js';
import { startAuthStack } from '../auth-helpers.js';

const CONTENT = 'the report, all of it';

test('share links through the gateway: made, listed, opened without signing in, counted only for whole downloads, used up, revoked', async (t) => {
  const stack = await startAuthStack(t, { files: { 'report.pdf': CONTENT, 'other.txt': 'secret' } });
  const writer = `Bearer ${await stack.addToken('will', 'write')}`;
  await stack.http().post(ApiPath.shares).set('authorization', writer).send({ name: 'missing.pdf' }).expect(404);
  const made = await stack.http().post(ApiPath.shares).set('authorization', writer).send({ name: 'report.pdf', expires: '7d', maxDownloads: 1 }).expect(201);
  const share = made.body as NewShareResponse;
  assert.match(share.token, /^tft_[0-9a-f]{8}_/);
  assert.equal(share.id, share.token.slice(4, 12));
  assert.equal(share.path, `/s/${share.token}`);
  assert.deepEqual({ ...share, token: '', path: '', expires: typeof share.expires }, { id: share.id, name: 'report.pdf', expires: 'string', downloads: 0, maxDownloads: 1, token: '', path: '' });
  const listed = await stack.http().get(ApiPath.shares).set('authorization', writer).expect(200);
  assert.deepEqual(listed.body, [{ id: share.id, name: 'report.pdf', expires: share.expires, downloads: 0, maxDownloads: 1 }]);

  // The public page's calls carry no cookie and no Bearer: the link is the only key.
  const stat = await stack.http().get(sharedFilePath(share.token)).expect(200);
  assert.equal(stat.body.name, 'report.pdf');
  assert.equal(stat.body.size, CONTENT.length);
  const download = sharedFilePath(share.token, true);
  const head = await stack.http().head(download).expect(200);
  assert.equal(head.headers['content-length'], String(CONTENT.length));
  assert.match(head.headers['content-disposition'] ?? '', /^attachment; filename="report.pdf"/);
  const part = await stack.http().get(download).set('range', 'bytes=4-9').buffer(true).parse(binary).expect(206);
  assert.equal(part.body.toString(), CONTENT.slice(4, 10));
  // Neither HEAD nor a range counted: the whole file still comes, once.
  const whole = await stack.http().get(download).buffer(true).parse(binary).expect(200);
  assert.equal(whole.body.toString(), CONTENT);
  // The server counts a download once its last byte is sent, which may be just after the response ended here.
  let downloads = 0;
  await eventually(async () => (downloads = (await stack.http().get(ApiPath.shares).set('authorization', writer).expect(200)).body[0].downloads) === 1, `the download counted (${downloads})`);
  assert.deepEqual((await stack.http().get(download).expect(403)).body, { error: SHARE_USED_UP });

  // Revoked: the link is no token any more.
  await stack.http().delete(`${ApiPath.shares}/${share.id}`).set('authorization', writer).expect(204);
  await stack.http().delete(`${ApiPath.shares}/${share.id}`).set('authorization', writer).expect(404);
  // A connection the link had signed in is signed out by the revocation (the first 401 says so);
  // the next request signs in afresh and learns the link is gone.
  assert.ok([SIGN_IN_FIRST, SignInRefusal.INVALID_TOKEN].includes((await stack.http().get(sharedFilePath(share.token)).expect(401)).body.error));
  assert.deepEqual((await stack.http().get(sharedFilePath(share.token)).expect(401)).body, { error: SignInRefusal.INVALID_TOKEN });
  assert.deepEqual((await stack.http().get(ApiPath.shares).set('authorization', writer).expect(200)).body, []);
});

test('a share link opens its file only: the public routes never name another', async (t) => {
  const stack = await startAuthStack(t, { files: { 'report.pdf': CONTENT, 'other.txt': 'secret' } });
  const writer = `Bearer ${await stack.addToken('will', 'write')}`;
  const share = (await stack.http().post(ApiPath.shares).set('authorization', writer).send({ name: 'report.pdf' }).expect(201)).body as NewShareResponse;
  // The link as a Bearer token on the file routes: only its own file.
  const listing = await stack.http().get(ApiPath.files).set('authorization', `Bearer ${share.token}`).expect(200);
  assert.deepEqual(listing.body.map((row: { name: string }) => row.name), ['report.pdf']);
  await stack.http().get('/api/files/other.txt').set('authorization', `Bearer ${share.token}`).expect(403);
  // Its file gone: 404.
  await fs.rm(path.join(stack.dir, 'report.pdf'));
  await stack.http().get(sharedFilePath(share.token)).expect(404);
});

test('the /s/<token> page is the web app, sent with Referrer-Policy: no-referrer', async (t) => {
  const webDir = await scratchDir(t, 'gw-web-');
  await fs.writeFile(path.join(webDir, 'index.html'), '<!doctype html><title>app</title>');
  const stack = await startAuthStack(t, { app: { webDir } });
  const res = await stack.http().get('/s/tft_0123abcd_Zm9vYmFyYmF6cXV4cXV1eHh5enp5Li4uLi4uLi4uLi4uLi4').expect(200);
  assert.equal(res.text, '<!doctype html><title>app</title>');
  assert.equal(res.headers['referrer-policy'], 'no-referrer');
});
