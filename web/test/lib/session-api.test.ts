import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { WebError } from '../../src/lib/errors.js';
import { onSignInRefusal } from '../../src/lib/http.js';
import { fetchSession, isSignedOut, signIn, signOut } from '../../src/lib/session-api.js';

const GOOD = 'tft_0a1b2c3d_good';
const TOO_MANY = 'Too many attempts: retry in 42 s';

describe('session calls over HTTP', () => {
  let server: http.Server;
  let base: string;
  const requests: string[] = [];
  let signedIn = false;

  before(async () => {
    // A real HTTP server answering /api/session as the gateway's contract says.
    server = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        requests.push(`${request.method} ${request.url}${body ? ` ${body}` : ''}`);
        const json = (status: number, value: unknown, headers: Record<string, string> = {}) =>
          response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(value));
        if (request.method === 'GET') return signedIn ? json(200, { access: 'write', label: 'alice' }) : json(401, { error: 'Permission denied: sign in with auth <token>' });
        if (request.method === 'DELETE') return (signedIn = false), response.writeHead(204).end();
        const { token } = JSON.parse(body) as { token: string };
        if (token === GOOD) return (signedIn = true), json(200, { access: 'write', label: 'alice' });
        if (token === 'expired') return json(403, { error: 'Permission denied: token expired' });
        if (token === 'hammer') return json(429, { error: TOO_MANY }, { 'retry-after': '42' });
        return json(401, { error: 'Invalid token' });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  it('signs in, says who it is, and signs out at the contract path', async () => {
    await assert.rejects(fetchSession({ base }), (error: WebError) => isSignedOut(error) && error.status === 401);
    assert.deepEqual(await signIn(GOOD, { base }), { access: 'write', label: 'alice' });
    assert.deepEqual(await fetchSession({ base }), { access: 'write', label: 'alice' });
    await signOut({ base });
    assert.deepEqual(requests.splice(0), ['GET /api/session', `POST /api/session {"token":"${GOOD}"}`, 'GET /api/session', 'DELETE /api/session']);
  });

  it("throws the server's refusal verbatim, and does not report its own refusals as news", async (t) => {
    const reported: number[] = [];
    t.after(onSignInRefusal((status) => reported.push(status)));
    await assert.rejects(signIn('wrong', { base }), (error: WebError) => error.message === 'Invalid token' && isSignedOut(error));
    await assert.rejects(signIn('expired', { base }), (error: WebError) => error.message === 'Permission denied: token expired' && error.status === 403);
    await assert.rejects(signIn('hammer', { base }), (error: WebError) => error.message === TOO_MANY && !isSignedOut(error));
    assert.deepEqual(reported, []);
  });
});
