import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorKind, MAX_LINE_BYTES } from 'tor-server/protocol';
import { GatewayError } from '../../src/errors.js';
import { checkFileName, searchTextProblem } from '../../src/lib/names.js';

test('names the tor-server would refuse are refused before any command is sent', () => {
  for (const name of ['', '.env', 'a/b', 'a\nshow', 'x\r', '..']) {
    assert.throws(() => checkFileName(name), (error: unknown) => error instanceof GatewayError && error.statusCode === 400 && error.message.startsWith(ErrorKind.INVALID_NAME), JSON.stringify(name));
  }
  assert.doesNotThrow(() => checkFileName('résumé final (2).pdf'));
});

test('search texts must fit on one command line', () => {
  assert.equal(searchTextProblem('pdf'), undefined);
  assert.equal(searchTextProblem('two words'), undefined);
  assert.match(searchTextProblem('a\nexit')!, /control characters/);
  assert.match(searchTextProblem('x'.repeat(MAX_LINE_BYTES))!, /longer than/);
});
