import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WebError } from '../../src/lib/errors.js';
import { onSignInRefusal } from '../../src/lib/http.js';
import { createShare, fetchSharedFile, listShares, revokeShare } from '../../src/lib/share-api.js';
import { useFakeGateway } from './fake-gateway.js';

const T = '2026-11-26T10:00:00.000Z';
const LINK = { id: '0a1b2c3d', name: 'a b.txt', expires: null, downloads: 0, maxDownloads: 2 };
const USED_UP = 'Permission denied: share link used up';

describe('share calls over HTTP', () => {
  // Answers the share routes as the gateway's contract says.
  const gateway = useFakeGateway(({ method, url }, answer) => {
    if (url === '/api/shares' && method === 'GET') return answer.json(200, [LINK]);
    if (url === '/api/shares') return answer.json(201, { ...LINK, token: 'tft_0a1b2c3d_x', path: '/s/tft_0a1b2c3d_x' });
    if (url === '/api/shares/0a1b2c3d') return answer.send(204);
    if (url === '/api/shares/ffffffff') return answer.json(401, { error: 'Invalid token' });
    if (url === '/api/s/tft_0a1b2c3d_x') return answer.json(200, { name: 'a b.txt', size: 3, modified: T });
    return answer.json(403, { error: USED_UP });
  });
  const requests = gateway.requests;

  it('lists, creates and revokes links and opens a shared file at the contract paths', async () => {
    assert.deepEqual(await listShares({ base: gateway.base }), [LINK]);
    const created = await createShare({ name: 'a b.txt', expires: '7d', maxDownloads: 2 }, { base: gateway.base });
    assert.equal(created.path, '/s/tft_0a1b2c3d_x');
    await revokeShare('0a1b2c3d', { base: gateway.base });
    assert.deepEqual(await fetchSharedFile('tft_0a1b2c3d_x', { base: gateway.base }), { name: 'a b.txt', size: 3, modified: T });
    assert.deepEqual(requests.splice(0), [
      'GET /api/shares',
      'POST /api/shares {"name":"a b.txt","expires":"7d","maxDownloads":2}',
      'DELETE /api/shares/0a1b2c3d',
      'GET /api/s/tft_0a1b2c3d_x',
    ]);
  });

  it("a signed-in call's 401 is reported (the session may have ended); the public page's refusal is only shown", async (t) => {
    const reported: number[] = [];
    t.after(onSignInRefusal((status) => reported.push(status)));
    await assert.rejects(revokeShare('ffffffff', { base: gateway.base }), { message: 'Invalid token' });
    await assert.rejects(fetchSharedFile('tft_used_up', { base: gateway.base }), (error: WebError) => error.message === USED_UP && error.status === 403);
    assert.deepEqual(reported, [401]);
  });
});
