import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TftcpConnectionError, TftcpError, TftcpProtocolError, TftcpReplyError, refusalKind } from '../../src/client/errors.js';
import { CLIENT_NOT_TRUSTED, SHARE_USED_UP, SIGN_IN_FIRST, SignInRefusal, TOKEN_EXPIRED, TOKEN_EXPIRED_AT_SIGN_IN, TOKEN_REVOKED, onlyFileReply, tooManyAttemptsReply } from '../../src/protocol/auth.js';
import { ErrorKind, Reply, errorReply } from '../../src/protocol/constants.js';

describe('client errors', () => {
  it('refusalKind classifies reply lines', () => {
    assert.equal(refusalKind(Reply.NOT_FOUND), 'not-found');
    assert.equal(refusalKind(Reply.UNKNOWN), 'unknown-command');
    for (const kind of Object.values(ErrorKind)) assert.equal(refusalKind(errorReply(kind, 'detail')), kind);
    assert.equal(refusalKind('Something unexpected'), 'other');
  });

  it('sign-in refusals have kinds of their own: no valid sign-in, an unknown token, too many attempts (with its seconds)', () => {
    for (const line of [SIGN_IN_FIRST, TOKEN_REVOKED, TOKEN_EXPIRED, TOKEN_EXPIRED_AT_SIGN_IN]) assert.equal(refusalKind(line), 'sign-in-needed', line);
    assert.equal(refusalKind(SignInRefusal.INVALID_TOKEN), SignInRefusal.INVALID_TOKEN);
    const limited = new TftcpReplyError(tooManyAttemptsReply(42));
    assert.deepEqual([limited.kind, limited.retryAfterSeconds], [SignInRefusal.TOO_MANY_ATTEMPTS, 42]);
    assert.equal(new TftcpReplyError(SignInRefusal.INVALID_TOKEN).retryAfterSeconds, undefined);
    // The other Permission denied lines are about the level or the file, not the sign-in.
    for (const line of [SHARE_USED_UP, CLIENT_NOT_TRUSTED, onlyFileReply('a.txt'), errorReply(ErrorKind.PERMISSION_DENIED, 'delete needs admin access (this token gives write)')]) {
      assert.equal(refusalKind(line), ErrorKind.PERMISSION_DENIED, line);
    }
  });

  it('each error class carries a stable code', () => {
    const reply = new TftcpReplyError(errorReply(ErrorKind.FILE_EXISTS, 'a.txt'));
    assert.ok(reply instanceof TftcpError && reply instanceof Error);
    assert.equal(reply.code, 'TOR_ERR_REFUSED');
    assert.equal(reply.kind, ErrorKind.FILE_EXISTS);
    assert.equal(reply.message, 'File already exists: a.txt');
    assert.equal(new TftcpConnectionError('x').code, 'TOR_ERR_CONNECTION');
    assert.equal(new TftcpProtocolError('x').code, 'TOR_ERR_PROTOCOL');
  });
});
