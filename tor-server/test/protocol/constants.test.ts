import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorKind, Reply, errorKindOf, errorReply } from '../../src/protocol/constants.js';

describe('reply words and error kinds', () => {
  it('keeps the original TFTCP reply words, and adds the TFTCP/1.1 ones', () => {
    assert.deepEqual(Reply, {
      OK: 'ok',
      UNKNOWN: 'This command does not exist, rewrite',
      END: 'end',
      FOUND: 'found',
      NOT_FOUND: 'Not found file',
      EXIT: 'exit',
      DELETED: 'deleted',
      RENAMED: 'renamed',
      RESYNC: 'resync',
      SHA256: 'sha256',
      ACCESS: 'access',
      WATCHING: 'watching',
      SIGNED_IN: 'signed in as',
      SHARE: 'share',
      UPLOAD_ID: 'upload',
      HAVE: 'have',
      PARTIAL: 'partial',
      COMMITTED: 'committed',
      STORED: 'stored',
    });
  });

  it('errorReply is the kind, or the kind, a colon and the detail', () => {
    assert.equal(errorReply(ErrorKind.TOO_LARGE), ErrorKind.TOO_LARGE);
    assert.equal(errorReply(ErrorKind.TOO_LARGE, '5 bytes'), `${ErrorKind.TOO_LARGE}: 5 bytes`);
  });

  it('errorKindOf classifies every kind and nothing else', () => {
    for (const kind of Object.values(ErrorKind)) {
      assert.equal(errorKindOf(kind), kind);
      assert.equal(errorKindOf(errorReply(kind, 'some detail: with colons')), kind);
    }
    for (const line of Object.values(Reply)) assert.equal(errorKindOf(line), undefined, line);
    assert.equal(errorKindOf(`${ErrorKind.TOO_LARGE}s`), undefined);
    assert.equal(errorKindOf(`x ${ErrorKind.TOO_LARGE}`), undefined);
  });

  it('no error kind is a prefix of a reply word or of another kind', () => {
    const words = [...Object.values(Reply), ...Object.values(ErrorKind)];
    for (const kind of Object.values(ErrorKind))
      for (const word of words) if (word !== kind) assert.ok(!word.startsWith(`${kind}:`) && word !== kind, `${kind} / ${word}`);
  });
});
