import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidValue, byteSize, count, port, seconds } from '../../src/options/index.js';

function refuses(parse: (text: string) => unknown, text: string): void {
  assert.throws(() => parse(text), InvalidValue, text);
}

describe('parsers', () => {
  it('port: 0 to 65535', () => {
    assert.deepEqual(['0', '80', '65535'].map(port), [0, 80, 65535]);
    for (const text of ['65536', '-1', '1.5', 'http', '0x50', ' 80']) refuses(port, text);
  });

  it('count: whole numbers from 1', () => {
    assert.deepEqual(['1', '64', '9007199254740991'].map(count), [1, 64, Number.MAX_SAFE_INTEGER]);
    for (const text of ['0', '-1', '1.5', '1e3', '9007199254740992', 'many']) refuses(count, text);
  });

  it('seconds: fractions allowed, as milliseconds; 0 only where allowed', () => {
    assert.equal(seconds({ above0: true })('0.5'), 500);
    assert.equal(seconds({ above0: true })('3'), 3000);
    assert.equal(seconds({ above0: false })('0'), 0);
    for (const text of ['0', '0.0', '-3', 'soon', '1e2', '.5']) refuses(seconds({ above0: true }), text);
  });

  it('byteSize: plain bytes or binary units', () => {
    assert.deepEqual(['0', '512K', '1.5k', '2MiB', '16G'].map(byteSize), [0, 512 * 1024, 1536, 2 * 1024 ** 2, 16 * 1024 ** 3]);
    for (const text of ['lots', '-1', '1X', '99999999999T']) refuses(byteSize, text);
  });
});
