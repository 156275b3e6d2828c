import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { SignInRefusal } from 'tor-server/protocol';
import { eventually } from 'test-support';
import { ApiPath } from '../../src/api/index.js';
import { listen } from '../helpers.js';
import { startAuthStack } from '../auth-helpers.js';

/** A token of the right shape the tor-server never made; `n` makes each one different (the gateway remembers a refused one for a few seconds). */
function wrongToken(n: number): string {
  return `tft_${n.toString(16).padStart(8, '0')}_${'A'.repeat(43)}`;
}

/** POSTs a sign-in from `localAddress` (any 127.x address reaches the gateway on 127.0.0.1). */
function signIn(baseUrl: string, token: string, localAddress: string): Promise<{ status: number; body: { error?: string }; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ token });
    const request = http.request(`${baseUrl}${ApiPath.session}`, { method: 'POST', localAddress, agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text), ...(res.headers['retry-after'] !== undefined && { retryAfter: res.headers['retry-after'] }) }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

test('failed sign-ins are limited by the browser\'s address, not the gateway\'s: 429 with Retry-After for one, the other signs in', async (t) => {
  const stack = await startAuthStack(t, { tor: { trustedProxies: ['127.0.0.1'] } });
  const url = await listen(stack.app);
  const token = await stack.addToken('alice', 'write');
  // The tor-server allows 10 failures a minute per address; the 11th attempt is refused unlooked.
  for (let i = 0; i < 10; i++) assert.deepEqual(await signIn(url, wrongToken(i), '127.0.0.2'), { status: 401, body: { error: SignInRefusal.INVALID_TOKEN } });
  const limited = await signIn(url, token, '127.0.0.2');
  assert.equal(limited.status, 429);
  const seconds = /^Too many attempts: retry in (\d+) s$/.exec(limited.body.error ?? '')?.[1];
  assert.ok(seconds, limited.body.error);
  assert.equal(limited.retryAfter, seconds);
  // Another browser behind the same gateway is not held back by the first one's failures.
  assert.deepEqual(await signIn(url, wrongToken(10), '127.0.0.3'), { status: 401, body: { error: SignInRefusal.INVALID_TOKEN } });
  assert.deepEqual(await signIn(url, token, '127.0.0.3'), { status: 200, body: { access: 'write', label: 'alice' } });
});

test('many users at once stay within maxUpstream: idle users\' connections make room for new ones', async (t) => {
  const maxUpstream = 6;
  const count = 12;
  const fileOf = (i: number) => `f${i}.txt`;
  const files = Object.fromEntries(Array.from({ length: count }, (_, i) => [fileOf(i), `file ${i}`]));
  const stack = await startAuthStack(t, { files, app: { maxUpstream, upstreamPool: 2 } });
  // Each user may see one file of their own: a listing shows whose token its connection signed in with.
  const users = await Promise.all(Array.from({ length: count }, (_, i) => stack.addToken(`user${i}`, 'read', '--only', fileOf(i))));
  let most = 0;
  const watch = setInterval(() => (most = Math.max(most, stack.app.upstream.openCount)), 1);
  t.after(() => clearInterval(watch));
  for (let round = 0; round < 2; round++) {
    const answers = await Promise.all(users.map((token) => stack.http().get(ApiPath.files).set('authorization', `Bearer ${token}`)));
    answers.forEach((answer, i) => {
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.deepEqual(answer.body.map((row: { name: string }) => row.name), [fileOf(i)], `user${i}'s listing`);
    });
  }
  assert.ok(most <= maxUpstream, `at most ${maxUpstream} connections (saw ${most})`);
  assert.ok(stack.app.identities.count <= users.length + 1);
  // The pool gauges sum over every user; no token (nor its hash) is ever a label.
  const scraped = await stack.app.metrics.registry.metrics();
  assert.match(scraped, /^tor_gateway_upstream_pool_connections \d+$/m);
  for (const token of users) assert.ok(!scraped.includes(token.slice(13)), 'no token in the metrics');
  // The tor-server never saw more than the bound either.
  await eventually(() => stack.server.connections.size <= maxUpstream, 'the tor-server to hold at most the bound');
});
