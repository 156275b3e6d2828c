import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_NAME_BYTES } from '../../src/protocol/constants.js';
import { fileNameProblem } from '../../src/protocol/names.js';

describe('fileNameProblem', () => {
  it('accepts ordinary names, spaces, and non-ASCII', () => {
    for (const name of ['notes.pdf', 'a', 'my holiday clip.mp4', 'café', '日本語.txt', 'emoji 🎬.mkv', 'trailing.', 'a..b', '-x', ' lead space', 'x '])
      assert.equal(fileNameProblem(name), undefined, name);
  });

  it('refuses the empty name', () => {
    assert.match(fileNameProblem('')!, /empty/);
  });

  it(`allows exactly ${MAX_NAME_BYTES} bytes of UTF-8 and refuses one more`, () => {
    assert.equal(fileNameProblem('a'.repeat(MAX_NAME_BYTES)), undefined);
    assert.match(fileNameProblem('a'.repeat(MAX_NAME_BYTES + 1))!, /255 bytes/);
    // 85 three-byte characters are 255 bytes; one more ASCII byte crosses the limit while staying short in characters.
    const euros = '€'.repeat(MAX_NAME_BYTES / 3);
    assert.equal(Buffer.byteLength(euros), MAX_NAME_BYTES);
    assert.equal(fileNameProblem(euros), undefined);
    assert.match(fileNameProblem(`${euros}a`)!, /255 bytes/);
    // A 4-byte character counts 4 bytes though it is 2 UTF-16 units.
    assert.match(fileNameProblem(`${'a'.repeat(252)}🎬`)!, /255 bytes/);
    assert.equal(fileNameProblem(`${'a'.repeat(251)}🎬`), undefined);
  });

  it('refuses / and \\ anywhere', () => {
    for (const name of ['a/b', '/etc/passwd', '../x', 'x/', 'a\\b', '..\\x', '\\'])
      assert.match(fileNameProblem(name)!, /\/ or \\/, name);
  });

  it('refuses every C0 control, DEL and every C1 control (U+0080 to U+009F)', () => {
    for (let code = 0; code <= 0x1f; code++) assert.match(fileNameProblem(`a${String.fromCharCode(code)}b`)!, /control/, `U+${code.toString(16)}`);
    for (let code = 0x7f; code <= 0x9f; code++) assert.match(fileNameProblem(`a${String.fromCharCode(code)}b`)!, /control/, `U+${code.toString(16)}`);
    assert.equal(fileNameProblem('a\u00a0b'), undefined, 'U+00A0 (no-break space) is printable');
  });

  it('refuses bidirectional overrides and isolates, U+202A to U+202E and U+2066 to U+2069', () => {
    for (const code of [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069])
      assert.match(fileNameProblem(`invoice${String.fromCharCode(code)}fdp.exe`)!, /bidirectional/, `U+${code.toString(16)}`);
    assert.equal(fileNameProblem('a\u200eb'), undefined, 'a plain left-to-right mark reorders nothing');
  });

  it('refuses a byte order mark anywhere, which decoders drop from the start of a text', () => {
    for (const name of ['\ufeffa.txt', 'a\ufeff.txt']) assert.match(fileNameProblem(name)!, /byte order mark/, JSON.stringify(name));
  });

  it('refuses . and .. and anything starting with a dot', () => {
    assert.match(fileNameProblem('.')!, /\. or \.\./);
    assert.match(fileNameProblem('..')!, /\. or \.\./);
    for (const name of ['.hidden', '.tor-tmp', '...', '.x.txt']) assert.match(fileNameProblem(name)!, /reserved/, name);
  });

  it('refuses a lone surrogate, which has no UTF-8 form', () => {
    assert.match(fileNameProblem('a\ud800b')!, /UTF-8/);
  });
});
