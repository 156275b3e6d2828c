import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Reply, SignInRefusal } from 'tor-server/protocol';
import request from 'supertest';
import { ApiPath, sharedFilePath, type NewShareResponse } from '../../src/api/index.js';
import type { AppOptions } from '../../src/app.js';
import { startApp, type TestApp } from '../helpers.js';
import { TftcpProxy } from '../tftcp-proxy.js';
import { startAuthStack, type AuthStack } from '../auth-helpers.js';

/** A token of the right shape the tor-server never made. */
const MADE_UP = `tft_0badc0de_${'B'.repeat(43)}`;

/** A sign-in-required stack whose gateway reaches its tor-server through a proxy that counts connections. */
async function countedStack(t: Parameters<typeof startAuthStack>[0], app: Partial<AppOptions> = {}): Promise<{ stack: AuthStack; proxy: TftcpProxy; app: TestApp }> {
  const stack = await startAuthStack(t, { files: { 'report.pdf': 'the report' } });
  const proxy = await TftcpProxy.start(t, stack.server.address().port);
  return { stack, proxy, app: await startApp(t, proxy.port, app) };
}

test('another site\'s page cannot spend its visitors\' sign-ins on share links: cross-site is 403, a malformed link 404, neither connects', async (t) => {
  const { stack, proxy, app } = await countedStack(t);
  const writer = `Bearer ${await stack.addToken('will', 'write')}`;
  const share = (await request(app.server).post(ApiPath.shares).set('authorization', writer).send({ name: 'report.pdf' }).expect(201)).body as NewShareResponse;
  const before = proxy.connections;
  for (const path of [sharedFilePath(MADE_UP), sharedFilePath(MADE_UP, true), sharedFilePath(share.token), sharedFilePath(share.token, true)]) {
    const res = await request(app.server).get(path).set('sec-fetch-site', 'cross-site').set('sec-fetch-mode', 'no-cors').set('sec-fetch-dest', 'image').expect(403);
    assert.match(res.body.error, /another site's page may not open share links/, path);
  }
  for (const junk of ['nope', `tft_0123abcd_${'A'.repeat(42)}`, `tft_0123ABCD_${'A'.repeat(43)}`, `${MADE_UP}x`]) {
    for (const path of [sharedFilePath(junk), sharedFilePath(junk, true)]) {
      assert.deepEqual((await request(app.server).get(path).expect(404)).body, { error: Reply.NOT_FOUND }, path);
    }
  }
  assert.equal(proxy.connections, before, 'no TFTCP connection for any of them');
  // The link's own page (same origin) and a link opened directly still work.
  await request(app.server).get(sharedFilePath(share.token)).set('sec-fetch-site', 'same-origin').expect(200);
  // (HEAD: a whole download would be counted, and the tor-server would write its state after the test.)
  await request(app.server).head(sharedFilePath(share.token, true)).set('sec-fetch-site', 'none').expect(200);
});

test('a made-up token costs one TFTCP connection, then its Invalid token is answered from memory for a few seconds', async (t) => {
  const { proxy, app } = await countedStack(t, { refusedTokenMs: 60_000 });
  const bearer = `Bearer ${MADE_UP}`;
  assert.deepEqual((await request(app.server).get(ApiPath.files).set('authorization', bearer).expect(401)).body, { error: SignInRefusal.INVALID_TOKEN });
  const after = proxy.connections;
  assert.equal(proxy.count('auth'), 1);
  for (let i = 0; i < 5; i++) {
    assert.deepEqual((await request(app.server).get(ApiPath.files).set('authorization', bearer).expect(401)).body, { error: SignInRefusal.INVALID_TOKEN });
    assert.deepEqual((await request(app.server).post(ApiPath.session).send({ token: MADE_UP }).expect(401)).body, { error: SignInRefusal.INVALID_TOKEN });
    await request(app.server).get(sharedFilePath(MADE_UP)).expect(401);
  }
  assert.equal(proxy.connections, after, 'the refusal was remembered');
  assert.equal(proxy.count('auth'), 1);
});
