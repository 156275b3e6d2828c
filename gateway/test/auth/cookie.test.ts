import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SignInRefusal } from 'tor-server/protocol';
import request from 'supertest';
import { ApiPath } from '../../src/api/index.js';
import { listen } from '../helpers.js';
import { sessionCookie, setCookieOf, startAuthStack } from '../auth-helpers.js';

const CLEARED = /^tft_session=;.*Expires=Thu, 01 Jan 1970/;

test('behind a TLS-terminating proxy (plain HTTP to the gateway, an https:// page) the session cookie is Secure; a plain http:// page gets none', async (t) => {
  const stack = await startAuthStack(t);
  const url = await listen(stack.app);
  const token = await stack.addToken('alice', 'write');
  const host = new URL(url).host;
  const proxied = await request(url).post(ApiPath.session).set('origin', `https://${host}`).send({ token }).expect(200);
  const secure = setCookieOf(proxied.headers);
  assert.ok(secure?.split('; ').includes('Secure'), `Secure in ${secure}`);
  const plain = await request(url).post(ApiPath.session).set('origin', `http://${host}`).send({ token }).expect(200);
  assert.ok(!setCookieOf(plain.headers)?.split('; ').includes('Secure'), `no Secure in ${setCookieOf(plain.headers)}`);
});

test('a cookie that cannot hold a token (too long, the wrong shape) is 401 Invalid token and cleared, without asking the tor-server', async (t) => {
  const stack = await startAuthStack(t, { files: { 'a.txt': 'alpha' } });
  for (const junk of ['x'.repeat(600), 'not-a-token', `tft_0123abcd_${'A'.repeat(42)}`]) {
    const res = await stack.http().get(ApiPath.files).set('cookie', sessionCookie(junk)).expect(401);
    assert.deepEqual(res.body, { error: SignInRefusal.INVALID_TOKEN });
    assert.match(setCookieOf(res.headers) ?? '', CLEARED, junk.slice(0, 20));
  }
  assert.equal(stack.app.upstream.openCount, 0, 'no connection was opened for them');
});

test('DELETE /api/session is always 204 and clears the cookie, whatever it holds: an oversized one, a malformed one, a refused one', async (t) => {
  const stack = await startAuthStack(t);
  const refused = `tft_00000000_${'A'.repeat(43)}`;
  await stack.http().get(ApiPath.files).set('cookie', sessionCookie(refused)).expect(401);
  for (const cookie of ['x'.repeat(600), 'not-a-token', refused]) {
    const res = await stack.http().delete(ApiPath.session).set('cookie', sessionCookie(cookie)).expect(204);
    assert.match(setCookieOf(res.headers) ?? '', CLEARED, cookie.slice(0, 20));
  }
});
