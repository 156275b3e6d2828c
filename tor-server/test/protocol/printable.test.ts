import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { printable } from '../../src/protocol/printable.js';

describe('printable', () => {
  it('leaves ordinary text, accents, CJK and emoji alone', () => {
    for (const text of ['notes.pdf', 'café', '日本語.txt', 'emoji 🎬.mkv', 'a\u00a0b']) assert.equal(printable(text), text);
  });

  it('escapes C0 controls, DEL and C1 controls visibly', () => {
    assert.equal(printable('a\u001b[31mred'), 'a\\x1b[31mred');
    assert.equal(printable('a\u007fb\u009bc\u0085'), 'a\\x7fb\\x9bc\\x85');
    assert.equal(printable('line\r\nbreak\ttab'), 'line\\x0d\\x0abreak\\x09tab');
  });

  it('escapes bidirectional overrides and lone surrogates', () => {
    assert.equal(printable('invoice\u202efdp.exe'), 'invoice\\u202efdp.exe');
    assert.equal(printable('x\u2066y\u2069'), 'x\\u2066y\\u2069');
    assert.equal(printable('a\ud800b'), 'a\\ud800b');
  });
});
