import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { SIGN_IN_FIRST, SignInRefusal, TOKEN_EXPIRED_AT_SIGN_IN } from 'tor-server/protocol';
import { eventually, makeCertificates, scratchDir } from 'test-support';
import { ApiPath, SESSION_COOKIE } from '../../src/api/index.js';
import { sessionCookie, setCookieOf, startAuthStack } from '../auth-helpers.js';

test('without a token a server that requires sign-in is a 401 with its reply line, for the session and the files alike', async (t) => {
  const stack = await startAuthStack(t, { files: { 'a.txt': 'alpha' } });
  for (const path of [ApiPath.session, ApiPath.files, '/api/files/a.txt']) {
    const res = await stack.http().get(path).expect(401);
    assert.deepEqual(res.body, { error: SIGN_IN_FIRST }, path);
  }
});

test('POST /api/session signs in upstream, then sets an HttpOnly SameSite=Strict cookie; the cookie and a Bearer token both work', async (t) => {
  const stack = await startAuthStack(t, { files: { 'a.txt': 'alpha' } });
  const token = await stack.addToken('alice', 'write');
  const res = await stack.http().post(ApiPath.session).send({ token }).expect(200);
  assert.deepEqual(res.body, { access: 'write', label: 'alice' });
  const cookie = setCookieOf(res.headers);
  assert.ok(cookie, 'a session cookie');
  assert.match(cookie, new RegExp(`^${SESSION_COOKIE}=${token}; `));
  for (const attribute of ['Max-Age=34560000', 'Path=/', 'HttpOnly', 'SameSite=Strict']) assert.ok(cookie.split('; ').includes(attribute), `${attribute} in ${cookie}`);
  assert.ok(!/; Secure/.test(cookie), 'no Secure over plain HTTP');

  const byCookie = await stack.http().get(ApiPath.session).set('cookie', sessionCookie(token)).expect(200);
  assert.deepEqual(byCookie.body, { access: 'write', label: 'alice' });
  const byBearer = await stack.http().get(ApiPath.files).set('authorization', `Bearer ${token}`).expect(200);
  assert.deepEqual(byBearer.body.map((row: { name: string }) => row.name), ['a.txt']);
});

test('a wrong token is 401 Invalid token and sets no cookie; an expired one is 401 too', async (t) => {
  const stack = await startAuthStack(t);
  const wrong = await stack.http().post(ApiPath.session).send({ token: 'tft_00000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }).expect(401);
  assert.deepEqual(wrong.body, { error: SignInRefusal.INVALID_TOKEN });
  assert.equal(setCookieOf(wrong.headers), undefined);
  const expiring = await stack.addToken('brief', 'read', '--expires', '1m');
  // The token file is the operator's: make the token expired there, as time would.
  const file = `${stack.stateDir}/tokens.json`;
  await writeFile(file, (await readFile(file, 'utf8')).replace(/"expires":\s*"[^"]+"/, '"expires": "2000-01-01T00:00:00.000Z"'));
  await stack.server.auth.reload();
  const expired = await stack.http().post(ApiPath.session).send({ token: expiring }).expect(401);
  assert.deepEqual(expired.body, { error: TOKEN_EXPIRED_AT_SIGN_IN });
});

test('POST /api/session takes JSON only and refuses other sites\' pages (CSRF)', async (t) => {
  const stack = await startAuthStack(t);
  const token = await stack.addToken('alice', 'write');
  await stack.http().post(ApiPath.session).set('content-type', 'text/plain').send(JSON.stringify({ token })).expect(415);
  await stack.http().post(ApiPath.session).set('content-type', 'application/x-www-form-urlencoded').send(`token=${token}`).expect(415);
  const foreign = await stack.http().post(ApiPath.session).set('origin', 'http://evil.example').send({ token }).expect(403);
  assert.equal(setCookieOf(foreign.headers), undefined);
});

test('DELETE /api/session is 204 and clears the cookie', async (t) => {
  const stack = await startAuthStack(t);
  const token = await stack.addToken('alice', 'write');
  await stack.http().get(ApiPath.session).set('cookie', sessionCookie(token)).expect(200);
  const res = await stack.http().delete(ApiPath.session).set('cookie', sessionCookie(token)).expect(204);
  const cleared = setCookieOf(res.headers);
  assert.ok(cleared && /^tft_session=;/.test(cleared) && /Expires=Thu, 01 Jan 1970/.test(cleared), `cleared: ${cleared}`);
  // The user's idle connections are signed out with it.
  await eventually(() => stack.server.connections.size === 0, 'the signed-out user\'s connections to close');
});

test('a revoked token: the next request is 401 and its cookie is cleared', async (t) => {
  const stack = await startAuthStack(t, { files: { 'a.txt': 'alpha' } });
  const token = await stack.addToken('alice', 'write');
  await stack.http().get(ApiPath.files).set('cookie', sessionCookie(token)).expect(200);
  await stack.revoke('alice');
  const res = await stack.http().get(ApiPath.files).set('cookie', sessionCookie(token)).expect(401);
  assert.deepEqual(res.body, { error: SignInRefusal.INVALID_TOKEN });
  assert.match(setCookieOf(res.headers) ?? '', /^tft_session=;/);
  // A Bearer request has no cookie to clear.
  const bearer = await stack.http().get(ApiPath.files).set('authorization', `Bearer ${token}`).expect(401);
  assert.equal(setCookieOf(bearer.headers), undefined);
});

test('under HTTPS the session cookie is Secure too', async (t) => {
  const certs = makeCertificates(await scratchDir(t, 'gw-auth-certs-'));
  const stack = await startAuthStack(t, { app: { https: { cert: certs.cert, key: certs.key } } });
  const token = await stack.addToken('alice', 'write');
  await stack.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = stack.app.server.address() as AddressInfo;
  const body = JSON.stringify({ token });
  const cookie = await new Promise<string | undefined>((resolve, reject) => {
    const request = https.request({ host: '127.0.0.1', port, path: ApiPath.session, method: 'POST', ca: certs.ca, agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(setCookieOf(res.headers)));
    });
    request.on('error', reject);
    request.end(body);
  });
  assert.ok(cookie?.split('; ').includes('Secure'), `Secure in ${cookie}`);
});
