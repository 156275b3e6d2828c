import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TftcpConnectionError, TftcpError, TftcpProtocolError, TftcpReplyError, refusalKind } from '../../src/client/errors.js';
import { ErrorKind, Reply, errorReply } from '../../src/protocol/constants.js';

describe('client errors', () => {
  it('refusalKind classifies reply lines', () => {
    assert.equal(refusalKind(Reply.NOT_FOUND), 'not-found');
    assert.equal(refusalKind(Reply.UNKNOWN), 'unknown-command');
    for (const kind of Object.values(ErrorKind)) assert.equal(refusalKind(errorReply(kind, 'detail')), kind);
    assert.equal(refusalKind('Something unexpected'), 'other');
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
