import assert from 'node:assert/strict';
import { test } from 'node:test';
import { etagFor, ifRangeMatches, isNotModified, lastModifiedFor } from '../../src/lib/conditional.js';

const entry = { name: 'a.txt', size: 1234, modified: '2026-11-24T10:00:00.500Z' };
const etag = etagFor(entry);

test('the ETag is strong and changes with size or modification time', () => {
  assert.match(etag, /^"[0-9a-z]+-[0-9a-z]+"$/);
  assert.notEqual(etagFor({ ...entry, size: 1235 }), etag);
  assert.notEqual(etagFor({ ...entry, modified: '2026-11-24T10:00:01.500Z' }), etag);
  assert.equal(lastModifiedFor(entry), 'Tue, 24 Nov 2026 10:00:00 GMT');
});

test('If-None-Match matches weakly, in lists and with *', () => {
  assert.equal(isNotModified({ 'if-none-match': etag }, etag, entry.modified), true);
  assert.equal(isNotModified({ 'if-none-match': `"x", W/${etag}` }, etag, entry.modified), true);
  assert.equal(isNotModified({ 'if-none-match': '*' }, etag, entry.modified), true);
  assert.equal(isNotModified({ 'if-none-match': '"x"' }, etag, entry.modified), false);
  // If-None-Match wins over If-Modified-Since.
  assert.equal(isNotModified({ 'if-none-match': '"x"', 'if-modified-since': 'Tue, 24 Nov 2026 10:00:00 GMT' }, etag, entry.modified), false);
});

test('If-Modified-Since compares whole seconds', () => {
  assert.equal(isNotModified({ 'if-modified-since': 'Tue, 24 Nov 2026 10:00:00 GMT' }, etag, entry.modified), true);
  assert.equal(isNotModified({ 'if-modified-since': 'Tue, 24 Nov 2026 09:59:59 GMT' }, etag, entry.modified), false);
  assert.equal(isNotModified({ 'if-modified-since': 'garbage' }, etag, entry.modified), false);
  assert.equal(isNotModified({}, etag, entry.modified), false);
});

test('If-Range needs a strong ETag match or the exact date', () => {
  assert.equal(ifRangeMatches(undefined, etag, entry.modified), true);
  assert.equal(ifRangeMatches(etag, etag, entry.modified), true);
  assert.equal(ifRangeMatches(`W/${etag}`, etag, entry.modified), false);
  assert.equal(ifRangeMatches('"other"', etag, entry.modified), false);
  assert.equal(ifRangeMatches('Tue, 24 Nov 2026 10:00:00 GMT', etag, entry.modified), true);
  assert.equal(ifRangeMatches('Tue, 24 Nov 2026 09:00:00 GMT', etag, entry.modified), false);
});
