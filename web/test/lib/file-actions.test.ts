import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { WebErrorCode, type WebError } from '../../src/lib/errors.js';
import { deleteFile, fileSha256, isNotFound, renameFile, type ActionTarget } from '../../src/lib/file-actions.js';
import { useFakeGateway } from './fake-gateway.js';

const T = '2026-11-24T10:00:00.000Z';
const HASH = 'a'.repeat(64);
const DENIED = 'Permission denied: delete needs admin access';

describe('file actions over HTTP', () => {
  // Answers like the gateway does.
  const gateway = useFakeGateway(({ method, url, body }, answer) => {
    if (method === 'DELETE' && url === '/api/files/a%20b.txt') answer.send(204);
    else if (method === 'DELETE' && url === '/api/files/locked.txt') answer.json(403, { error: DENIED });
    else if (method === 'DELETE') answer.json(404, { error: 'Not found file' });
    else if (method === 'PATCH' && url === '/api/files/a.txt') answer.json(200, { name: JSON.parse(body).name, size: 3, modified: T });
    else if (method === 'PATCH') answer.json(409, { error: 'File already exists: b.txt' });
    else if (url === '/api/files/a.txt?hash=sha256') answer.json(200, { sha256: HASH });
    else answer.send(502, '<h1>Bad gateway</h1>', { 'content-type': 'text/html' });
  });
  const target = (): ActionTarget => ({ base: gateway.base });
  const requests = gateway.requests;

  it('deletes, renames and hashes at the contract paths', async () => {
    await deleteFile('a b.txt', target());
    assert.deepEqual(await renameFile('a.txt', 'c.txt', target()), { name: 'c.txt', size: 3, modified: T });
    assert.equal(await fileSha256('a.txt', target()), HASH);
    assert.deepEqual(requests.splice(0), [
      'DELETE /api/files/a%20b.txt',
      'PATCH /api/files/a.txt {"name":"c.txt"}',
      'GET /api/files/a.txt?hash=sha256',
    ]);
  });

  it("throws the server's own line when refused, with the status", async () => {
    await assert.rejects(deleteFile('locked.txt', target()), (error: WebError) => {
      assert.equal(error.code, WebErrorCode.HTTP_REFUSED);
      assert.equal(error.message, DENIED);
      assert.equal(error.status, 403);
      return true;
    });
    await assert.rejects(renameFile('x.txt', 'b.txt', target()), { message: 'File already exists: b.txt' });
    await assert.rejects(deleteFile('gone.txt', target()), (error: unknown) => isNotFound(error));
  });

  it('says what failed when the answer has no message, and when nothing answers', async () => {
    await assert.rejects(fileSha256('other.txt', target()), { message: 'Hashing “other.txt” failed (HTTP 502)' });
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(deleteFile('a.txt', { base: `http://127.0.0.1:${port}` }), (error: WebError) => error.code === WebErrorCode.HTTP_UNREACHABLE);
  });
});
