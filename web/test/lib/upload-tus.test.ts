import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { DefaultHttpStack } from 'tus-js-client';
import { HeadRefusedError, UploadHttpStack, sha256Checksum } from '../../src/lib/upload-http-stack.js';
import { shouldRetry, uploadFingerprint } from '../../src/lib/upload-tus.js';
import { useFakeGateway } from './fake-gateway.js';

describe('tus uploads', () => {
  it('retries lost connections, 5xx, a stale PATCH offset and a damaged chunk; never refusals, never offline', () => {
    assert.equal(shouldRetry(0, 'PATCH', true), true);
    assert.equal(shouldRetry(503, 'POST', true), true);
    assert.equal(shouldRetry(502, 'HEAD', true), true);
    assert.equal(shouldRetry(409, 'PATCH', true), true);
    assert.equal(shouldRetry(460, 'PATCH', true), true);
    // A POST's 409 is a taken name: the queue offers another.
    assert.equal(shouldRetry(409, 'POST', true), false);
    // So is a PATCH's whose commit found the name taken meanwhile (the upload is gone); a stale offset is retried.
    assert.equal(shouldRetry(409, 'PATCH', true, JSON.stringify({ error: 'File already exists: a.bin' })), false);
    assert.equal(shouldRetry(409, 'PATCH', true, JSON.stringify({ error: 'Upload-Offset is 0 but the upload stands at 8: ask HEAD and send from there' })), true);
    for (const status of [400, 403, 404, 413, 415]) assert.equal(shouldRetry(status, 'PATCH', true), false, String(status));
    // Offline, the `online` event resumes it instead of burning the retries.
    assert.equal(shouldRetry(0, 'PATCH', false), false);
  });

  it('fingerprints by the name stored as, the size and the modification time', () => {
    const file = { size: 10, lastModified: 1_700_000_000_000 };
    assert.equal(uploadFingerprint('a.bin', file), uploadFingerprint('a.bin', { ...file }));
    assert.notEqual(uploadFingerprint('a.bin', file), uploadFingerprint('a (1).bin', file));
    assert.notEqual(uploadFingerprint('a.bin', file), uploadFingerprint('a.bin', { ...file, size: 11 }));
    assert.notEqual(uploadFingerprint('a.bin', file), uploadFingerprint('a.bin', { ...file, lastModified: 1 }));
  });

  it('computes the Upload-Checksum of a Blob and of bytes with WebCrypto', async () => {
    const bytes = new TextEncoder().encode('chunk of a file');
    const expected = `sha256 ${createHash('sha256').update(bytes).digest('base64')}`;
    assert.equal(await sha256Checksum(new Blob([bytes])), expected);
    assert.equal(await sha256Checksum(bytes), expected);
  });
});

describe('a HEAD the gateway refuses for the sign-in', () => {
  const gateway = useFakeGateway((request, answer) => {
    if (request.url.endsWith('/signed-out')) answer.json(401, { error: 'Permission denied: sign in with auth <token>' });
    else if (request.url.endsWith('/read-only')) answer.json(403, { error: 'Permission denied: put needs write access (this token gives read)' });
    else answer.send(200, '', { 'upload-offset': '8', 'upload-length': '16', 'tus-resumable': '1.0.0' });
  });

  it('fails like a lost connection carrying its status, so tus-js-client keeps the upload for after the sign-in', async () => {
    const stack = new UploadHttpStack(new DefaultHttpStack({}));
    for (const [path, status] of [['signed-out', 401], ['read-only', 403]] as const) {
      const refused = await stack.createRequest('HEAD', `${gateway.base}/api/uploads/${path}`).send(null).then(
        () => undefined,
        (error: unknown) => error,
      );
      assert.ok(refused instanceof HeadRefusedError, String(refused));
      assert.equal(refused.status, status);
    }
    const found = await stack.createRequest('HEAD', `${gateway.base}/api/uploads/there`).send(null);
    assert.equal(found.getHeader('upload-offset'), '8');
  });
});
