import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { WebError } from '../../src/lib/errors.js';
import { onSignInRefusal } from '../../src/lib/http.js';
import { createShare, fetchSharedFile, listShares, revokeShare } from '../../src/lib/share-api.js';

const T = '2026-11-26T10:00:00.000Z';
const LINK = { id: '0a1b2c3d', name: 'a b.txt', expires: null, downloads: 0, maxDownloads: 2 };
const USED_UP = 'Permission denied: share link used up';

describe('share calls over HTTP', () => {
  let server: http.Server;
  let base: string;
  const requests: string[] = [];

  before(async () => {
    // A real HTTP server answering the share routes as the gateway's contract says.
    server = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        requests.push(`${request.method} ${request.url}${body ? ` ${body}` : ''}`);
        const json = (status: number, value: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
        const url = request.url ?? '';
        if (url === '/api/shares' && request.method === 'GET') return json(200, [LINK]);
        if (url === '/api/shares') return json(201, { ...LINK, token: 'tft_0a1b2c3d_x', path: '/s/tft_0a1b2c3d_x' });
        if (url === '/api/shares/0a1b2c3d') return response.writeHead(204).end();
        if (url === '/api/shares/ffffffff') return json(401, { error: 'Invalid token' });
        if (url === '/api/s/tft_0a1b2c3d_x') return json(200, { name: 'a b.txt', size: 3, modified: T });
        return json(403, { error: USED_UP });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  it('lists, creates and revokes links and opens a shared file at the contract paths', async () => {
    assert.deepEqual(await listShares({ base }), [LINK]);
    const created = await createShare({ name: 'a b.txt', expires: '7d', maxDownloads: 2 }, { base });
    assert.equal(created.path, '/s/tft_0a1b2c3d_x');
    await revokeShare('0a1b2c3d', { base });
    assert.deepEqual(await fetchSharedFile('tft_0a1b2c3d_x', { base }), { name: 'a b.txt', size: 3, modified: T });
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
    await assert.rejects(revokeShare('ffffffff', { base }), { message: 'Invalid token' });
    await assert.rejects(fetchSharedFile('tft_used_up', { base }), (error: WebError) => error.message === USED_UP && error.status === 403);
    assert.deepEqual(reported, [401]);
  });
});
