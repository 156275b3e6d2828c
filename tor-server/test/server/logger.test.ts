import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/server/logger.js';

describe('createLogger', () => {
  it('writes one logfmt line with simple values bare and others quoted', () => {
    const lines: string[] = [];
    createLogger('info', (line) => lines.push(line)).info('command', { client: '127.0.0.1:5000', name: 'my file.txt', n: 3 });
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^\S+ info command client=127\.0\.0\.1:5000 name="my file\.txt" n=3\n$/);
  });

  it('never lets a control character or bidi override reach the terminal raw', () => {
    const lines: string[] = [];
    createLogger('info', (line) => lines.push(line)).info('command', { command: 'x\u001b[2J\u009b31m\u202eevil\u0007' });
    const line = lines[0]!;
    assert.doesNotMatch(line.slice(0, -1), /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    assert.match(line, /command="x\\u001b\[2J\\x9b31m\\u202eevil\\u0007"/);
  });

  it('drops lines below its level', () => {
    const lines: string[] = [];
    const logger = createLogger('warn', (line) => lines.push(line));
    logger.info('quiet');
    logger.warn('loud');
    assert.equal(lines.length, 1);
  });
});
