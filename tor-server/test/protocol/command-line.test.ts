import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommandLine, parseRangeArguments, parseSize } from '../../src/protocol/command-line.js';

describe('parseCommandLine', () => {
  it('a bare command has no argument', () => {
    assert.deepEqual(parseCommandLine('show'), { command: 'show', argument: undefined });
    assert.deepEqual(parseCommandLine(''), { command: '', argument: undefined });
  });

  it('the argument is everything after the first space, verbatim', () => {
    assert.deepEqual(parseCommandLine('download my  file .txt '), { command: 'download', argument: 'my  file .txt ' });
    assert.deepEqual(parseCommandLine('search  lead'), { command: 'search', argument: ' lead' });
    assert.deepEqual(parseCommandLine('upload a\tb'), { command: 'upload', argument: 'a\tb' });
  });

  it('an empty argument (trailing space) counts as none', () => {
    assert.deepEqual(parseCommandLine('search '), { command: 'search', argument: undefined });
  });

  it('keeps the command word as sent (case matters to the caller)', () => {
    assert.equal(parseCommandLine('SHOW').command, 'SHOW');
    assert.equal(parseCommandLine('\tshow').command, '\tshow');
  });
});

describe('parseRangeArguments', () => {
  it('parses offset, length and a name that may contain spaces', () => {
    assert.deepEqual(parseRangeArguments('0 10 a.txt'), { offset: 0, length: 10, name: 'a.txt' });
    assert.deepEqual(parseRangeArguments('5 0 my file 2.mp4'), { offset: 5, length: 0, name: 'my file 2.mp4' });
    assert.deepEqual(parseRangeArguments('1 2 3 4'), { offset: 1, length: 2, name: '3 4' });
    assert.deepEqual(parseRangeArguments('9007199254740991 1 x'), { offset: Number.MAX_SAFE_INTEGER, length: 1, name: 'x' });
  });

  it('refuses malformed arguments', () => {
    for (const text of ['', '0 10', '0 10 ', 'a 10 x', '0 b x', '-1 10 x', '0 -1 x', '1.5 2 x', '0x10 1 x', ' 0 1 x', '0  1 x', '1e3 1 x', '99999999999999999 1 x', '9007199254740993 1 x'])
      assert.equal(parseRangeArguments(text), undefined, JSON.stringify(text));
  });
});

describe('parseSize', () => {
  it('parses decimal byte counts', () => {
    assert.equal(parseSize('0'), 0);
    assert.equal(parseSize('1048576'), 1048576);
    assert.equal(parseSize('007'), 7);
    assert.equal(parseSize('9007199254740991'), Number.MAX_SAFE_INTEGER);
  });

  it('refuses anything else', () => {
    for (const text of ['', ' 1', '1 ', '-1', '+1', '1.0', '1e6', '0x10', 'ten', '10K', '12345678901234567', '9007199254740992', '١٢'])
      assert.equal(parseSize(text), undefined, JSON.stringify(text));
  });
});
