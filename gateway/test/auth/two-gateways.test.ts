import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnGateway } from 'test-support';
import { ApiPath, SESSION_COOKIE } from '../../src/api/index.js';
import { startAuthStack } from '../auth-helpers.js';

test('two gateway processes in front of one tor-server accept the same cookie (it holds the token, not gateway memory)', async (t) => {
  const stack = await startAuthStack(t, { files: { 'a.txt': 'alpha' } });
  const token = await stack.addToken('alice', 'write');
  const port = stack.server.address().port;
  const [first, second] = await Promise.all([spawnGateway(t, { torPort: port, fromSource: true }), spawnGateway(t, { torPort: port, fromSource: true })]);

  const signedIn = await fetch(`${first.url}${ApiPath.session}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  assert.equal(signedIn.status, 200);
  const cookie = signedIn.headers.getSetCookie().find((line) => line.startsWith(`${SESSION_COOKIE}=`))?.split(';')[0];
  assert.ok(cookie);

  for (const gateway of [second, first]) {
    const session = await fetch(`${gateway.url}${ApiPath.session}`, { headers: { cookie } });
    assert.deepEqual([session.status, await session.json()], [200, { access: 'write', label: 'alice' }]);
    const files = await fetch(`${gateway.url}${ApiPath.files}`, { headers: { cookie } });
    assert.deepEqual(((await files.json()) as { name: string }[]).map((row) => row.name), ['a.txt']);
  }
  // Signing out on one gateway clears the cookie there; the token itself stays valid until revoked.
  const out = await fetch(`${second.url}${ApiPath.session}`, { method: 'DELETE', headers: { cookie } });
  assert.equal(out.status, 204);
  assert.match(out.headers.getSetCookie().join('\n'), /^tft_session=;/m);
});
