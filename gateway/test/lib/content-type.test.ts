import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FALLBACK_TYPE, contentTypeFor, contentTypeHeader, isInlineSafe } from '../../src/lib/content-type.js';

test('types come from the extension, case-insensitively, with a safe fallback', () => {
  assert.equal(contentTypeFor('clip.MP4'), 'video/mp4');
  assert.equal(contentTypeFor('report.pdf'), 'application/pdf');
  assert.equal(contentTypeFor('archive.tar.gz'), 'application/gzip');
  assert.equal(contentTypeFor('README'), FALLBACK_TYPE);
  assert.equal(contentTypeFor('x.unknownext'), FALLBACK_TYPE);
  assert.equal(contentTypeHeader('text/plain'), 'text/plain; charset=utf-8');
  assert.equal(contentTypeHeader('image/png'), 'image/png');
});

test('types that can run script in the origin are never inline-safe', () => {
  for (const name of ['a.html', 'a.htm', 'a.xhtml', 'a.svg', 'a.xml', 'a.xsl', 'a.js', 'a.mjs', 'a.css', 'a.swf', 'a.wasm', 'noext', 'a.bin']) {
    assert.equal(isInlineSafe(contentTypeFor(name)), false, name);
  }
  for (const name of ['a.png', 'a.jpg', 'a.mp4', 'a.mp3', 'a.txt', 'a.pdf', 'a.json']) {
    assert.equal(isInlineSafe(contentTypeFor(name)), true, name);
  }
});
