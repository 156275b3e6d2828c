import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WebError } from '../../src/lib/errors.js';
import { onSignInRefusal } from '../../src/lib/http.js';
import { fetchSession, isSignedOut, signIn, signOut } from '../../src/lib/session-api.js';
import { useFakeGateway } from './fake-gateway.js';

const GOOD = 'tft_0a1b2c3d_good';
const TOO_MANY = 'Too many attempts: retry in 42 s';

describe('session calls over HTTP', () => {
  let signedIn = false;
  // Answers /api/session as the gateway's contract says.
  const gateway = useFakeGateway(({ method, body }, answer) => {
    if (method === 'GET') return signedIn ? answer.json(200, { access: 'write', label: 'alice' }) : answer.json(401, { error: 'Permission denied: sign in with auth <token>' });
    if (method === 'DELETE') return (signedIn = false), answer.send(204);
    const { token } = JSON.parse(body) as { token: string };
    if (token === GOOD) return (signedIn = true), answer.json(200, { access: 'write', label: 'alice' });
    if (token === 'expired') return answer.json(403, { error: 'Permission denied: token expired' });
    if (token === 'hammer') return answer.json(429, { error: TOO_MANY }, { 'retry-after': '42' });
    return answer.json(401, { error: 'Invalid token' });
  });
  const requests = gateway.requests;

  it('signs in, says who it is, and signs out at the contract path', async () => {
    await assert.rejects(fetchSession({ base: gateway.base }), (error: WebError) => isSignedOut(error) && error.status === 401);
    assert.deepEqual(await signIn(GOOD, { base: gateway.base }), { access: 'write', label: 'alice' });
    assert.deepEqual(await fetchSession({ base: gateway.base }), { access: 'write', label: 'alice' });
    await signOut({ base: gateway.base });
    assert.deepEqual(requests.splice(0), ['GET /api/session', `POST /api/session {"token":"${GOOD}"}`, 'GET /api/session', 'DELETE /api/session']);
  });

  it("throws the server's refusal verbatim, and does not report its own refusals as news", async (t) => {
    const reported: number[] = [];
    t.after(onSignInRefusal((status) => reported.push(status)));
    await assert.rejects(signIn('wrong', { base: gateway.base }), (error: WebError) => error.message === 'Invalid token' && isSignedOut(error));
    await assert.rejects(signIn('expired', { base: gateway.base }), (error: WebError) => error.message === 'Permission denied: token expired' && error.status === 403);
    await assert.rejects(signIn('hammer', { base: gateway.base }), (error: WebError) => error.message === TOO_MANY && !isSignedOut(error));
    assert.deepEqual(reported, []);
  });
});
