import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeUtf8, escapeBytes } from '../../src/server/store/disk-names.js';

describe('names read from the disk as bytes', () => {
  it('decodeUtf8 takes valid UTF-8 only', () => {
    assert.equal(decodeUtf8(Buffer.from('été.mp4')), 'été.mp4');
    // A leading U+FEFF is part of the name, not dropped as a byte order mark.
    assert.equal(decodeUtf8(Buffer.from('\ufeffa.txt')), '\ufeffa.txt');
    assert.equal(decodeUtf8(Buffer.from([0xff, 0x66])), undefined);
    // An overlong `/` and a lone surrogate (CESU-8) are not UTF-8 either.
    assert.equal(decodeUtf8(Buffer.from([0xc0, 0xaf])), undefined);
    assert.equal(decodeUtf8(Buffer.from([0xed, 0xa0, 0x80])), undefined);
  });

  it('escapeBytes keeps valid text and shows every other byte as \\xNN', () => {
    assert.equal(escapeBytes(Buffer.from([0xff, 0x66])), '\\xfff');
    assert.equal(escapeBytes(Buffer.concat([Buffer.from('café '), Buffer.from([0xe9, 0x2e]), Buffer.from('€')])), 'café \\xe9.€');
    assert.equal(escapeBytes(Buffer.from([0xc0, 0xaf])), '\\xc0\\xaf');
    // A truncated sequence at the end.
    assert.equal(escapeBytes(Buffer.from([0x61, 0xe2, 0x82])), 'a\\xe2\\x82');
  });

  it('escapeBytes escapes control characters as well, so the result is safe for a terminal', () => {
    assert.equal(escapeBytes(Buffer.concat([Buffer.from('a\u001b[2J\u202e'), Buffer.from([0xff])])), 'a\\x1b[2J\\u202e\\xff');
  });
});
