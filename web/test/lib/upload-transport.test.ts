import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uploadErrorMessage } from '../../src/lib/upload-transport.js';

describe('uploadErrorMessage', () => {
  it("shows the refused file's own error from a per-file response", () => {
    const body = JSON.stringify({ files: [{ name: 'a.txt', size: 3, ok: false, error: 'File already exists: a.txt' }] });
    assert.equal(uploadErrorMessage(409, body), 'File already exists: a.txt');
  });

  it('falls back to the error body, then to the status', () => {
    assert.equal(uploadErrorMessage(503, JSON.stringify({ error: 'tor-server unreachable' })), 'tor-server unreachable');
    assert.equal(uploadErrorMessage(502, '<html>Bad gateway</html>'), 'Upload failed (HTTP 502)');
  });

  it('explains a request that got no answer at all', () => {
    assert.match(uploadErrorMessage(0, ''), /could not be reached/);
  });
});

describe('uploadErrorMessage without a body', () => {
  it('says what a refused HEAD\'s status means', () => {
    assert.match(uploadErrorMessage(401, ''), /^Your session has ended: sign in again, then retry/);
    assert.equal(uploadErrorMessage(403, ''), 'Permission denied: this session may not upload');
    assert.equal(uploadErrorMessage(418, ''), 'Upload failed (HTTP 418)');
  });
});
