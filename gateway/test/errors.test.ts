import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TftcpConnectionError, TftcpProtocolError, TftcpReplyError, TftcpSizeMismatchError } from 'tor-server/client';
import { ErrorKind, Reply, SHARE_USED_UP, SIGN_IN_FIRST, SignInRefusal, TOKEN_EXPIRED, TOKEN_EXPIRED_AT_SIGN_IN, TOKEN_REVOKED, errorReply, onlyFileReply, tooManyAttemptsReply } from 'tor-server/protocol';
import { GatewayError, SIZE_MISMATCH, asGatewayError, statusForRefusal } from '../src/errors.js';

test('every TFTCP refusal maps to the HTTP status a browser expects', () => {
  const expected: [string, number][] = [
    [Reply.NOT_FOUND, 404],
    [Reply.UNKNOWN, 400],
    [errorReply(ErrorKind.INVALID_NAME, 'the name is empty'), 400],
    [errorReply(ErrorKind.INVALID_SIZE, 'x'), 400],
    [errorReply(ErrorKind.FILE_EXISTS, 'a.txt'), 409],
    [errorReply(ErrorKind.PERMISSION_DENIED, 'deleting needs the admin access level'), 403],
    [errorReply(ErrorKind.TOO_LARGE, 'x'), 413],
    [errorReply(ErrorKind.INVALID_RANGE, 'x'), 416],
    [errorReply(ErrorKind.NO_SPACE, 'x'), 507],
    [errorReply(ErrorKind.TOO_MANY_CLIENTS, 'x'), 503],
    [errorReply(ErrorKind.SHUTTING_DOWN, 'x'), 503],
    [errorReply(ErrorKind.IDLE_TIMEOUT), 503],
    [errorReply(ErrorKind.SERVER_ERROR, 'x'), 502],
    ['Something unheard of', 502],
    // Sign-in: no valid sign-in is 401, a refused level or file 403, the sign-in limit 429.
    [SIGN_IN_FIRST, 401],
    [TOKEN_REVOKED, 401],
    [TOKEN_EXPIRED, 401],
    [TOKEN_EXPIRED_AT_SIGN_IN, 401],
    [SignInRefusal.INVALID_TOKEN, 401],
    [tooManyAttemptsReply(30), 429],
    [SHARE_USED_UP, 403],
    [onlyFileReply('a.txt'), 403],
  ];
  for (const [reply, status] of expected) {
    const error = new TftcpReplyError(reply);
    assert.equal(statusForRefusal(error.kind), status, reply);
    const converted = asGatewayError(error);
    assert.equal(converted.statusCode, status, reply);
    assert.equal(converted.message, reply, 'the reply line is kept verbatim');
  }
  assert.equal(asGatewayError(new TftcpReplyError(tooManyAttemptsReply(30))).retryAfterSeconds, 30, 'Retry-After comes from the reply');
  // Every kind the protocol defines is covered.
  for (const kind of Object.values(ErrorKind)) assert.equal(typeof statusForRefusal(kind), 'number', kind);
});

test('a broken upstream is 502, client errors keep their status, anything else is a bare 500', () => {
  assert.equal(asGatewayError(new TftcpConnectionError('reset')).statusCode, 502);
  assert.equal(asGatewayError(new TftcpProtocolError('garbage')).statusCode, 502);
  const own = new GatewayError('GW_ERR_LENGTH_REQUIRED', 'length please');
  assert.equal(asGatewayError(own), own);
  assert.equal(asGatewayError(Object.assign(new Error('Method not allowed'), { statusCode: 405 })).statusCode, 405);
  const internal = asGatewayError(new TypeError('secret stack detail'));
  assert.equal(internal.statusCode, 500);
  assert.doesNotMatch(internal.message, /secret/);
});

test('an upload source of the wrong size is a 400 size mismatch that names the file and what arrived', () => {
  const short = asGatewayError(new TftcpSizeMismatchError('a.txt', 5, 3));
  assert.equal(short.code, 'GW_ERR_SIZE_MISMATCH');
  assert.equal(short.statusCode, 400);
  assert.equal(short.message, `${SIZE_MISMATCH}: a.txt was announced as 5 bytes but 3 arrived; nothing was stored`);
  const long = asGatewayError(new TftcpSizeMismatchError('a.txt', 5, 8));
  assert.equal(long.message, `${SIZE_MISMATCH}: a.txt was announced as 5 bytes but more arrived; nothing was stored`);
});
