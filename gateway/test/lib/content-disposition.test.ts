import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contentDisposition, encodeRfc5987, parseContentDispositionName } from '../../src/lib/content-disposition.js';

test('plain ASCII names appear as both parameters', () => {
  assert.equal(contentDisposition('attachment', 'notes.txt'), `attachment; filename="notes.txt"; filename*=UTF-8''notes.txt`);
  assert.equal(contentDisposition('inline', 'a b.png'), `inline; filename="a b.png"; filename*=UTF-8''a%20b.png`);
});

test('non-ASCII, quotes, backslashes and percent signs are safe in the fallback and exact in filename*', () => {
  for (const name of ['résumé €.pdf', 'say "hi".txt', 'back\\slash.txt', '100%.txt', "it's (1)*.txt", '日本語 ファイル.txt', 'emoji 🎉.txt']) {
    const header = contentDisposition('attachment', name);
    const fallback = /filename="([^"]*)"/.exec(header)![1]!;
    assert.match(fallback, /^[\x20-\x7e]+$/, name);
    assert.doesNotMatch(fallback, /["\\%]/, name);
    assert.equal(parseContentDispositionName(header), name);
  }
});

test("RFC 5987 encoding leaves only attr-chars unescaped", () => {
  assert.equal(encodeRfc5987("a'b(c)*d é"), 'a%27b%28c%29%2Ad%20%C3%A9');
});
